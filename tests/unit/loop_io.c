/* The internal fd watchers on pipes: readable, writable, modify, hang-up, unwatching inside a
 * batch (no stale event reaches a later registration of the same fd number), a thread's write
 * waking a sleeping loop, and fd callbacks not starved by a self-rescheduling callback. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conc.h"
#include "internal/loop.h"
#include "test.h"

struct io {
    conc_loop_t *loop;
    int fd;
    int calls;
    unsigned events;
    char buf[16];
    ssize_t got;
};

static void on_read(void *arg, int fd, unsigned events) {
    struct io *io = arg;
    assert_int_equal(fd, io->fd);
    io->calls++;
    io->events = events;
    io->got = read(fd, io->buf, sizeof io->buf);
    assert_int_equal(conc__loop_unwatch(io->loop, fd), 0);
    conc_loop_stop(io->loop);
}

static void write_pipe(void *arg) {
    int *fd = arg;
    assert_int_equal(write(*fd, "hi", 2), 2);
}

static void pipe_becomes_readable(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    struct io io = {.loop = loop, .fd = p[0]};
    assert_int_equal(conc__loop_watch(loop, p[0], CONC__IO_READ, on_read, &io), 0);
    conc_call_later(loop, 0.01, write_pipe, &p[1]);
    assert_int_equal(conc_loop_run(loop), 0);
    assert_int_equal(io.calls, 1);
    assert_int_equal(io.events, CONC__IO_READ);
    assert_int_equal(io.got, 2);
    assert_memory_equal(io.buf, "hi", 2);
    close(p[0]);
    close(p[1]);
    conc_loop_free(loop);
}

static void on_write_then_read(void *arg, int fd, unsigned events) {
    struct io *io = arg;
    io->calls++;
    if (io->calls == 1) {
        assert_int_equal(events, CONC__IO_WRITE);
        /* modify: now wait for the other end's data instead (a socketpair is bidirectional) */
        assert_int_equal(write(fd, "x", 1), 1);
        assert_int_equal(conc__loop_watch(io->loop, fd, CONC__IO_READ, on_write_then_read, io), 0);
    } else {
        assert_int_equal(events, CONC__IO_READ);
        io->got = read(fd, io->buf, sizeof io->buf);
        conc__loop_unwatch(io->loop, fd);
        conc_loop_stop(io->loop);
    }
}

static void echo_back(void *arg, int fd, unsigned events) {
    (void)events;
    char c;
    struct io *peer = arg;
    assert_int_equal(read(fd, &c, 1), 1);
    assert_int_equal(write(fd, "y", 1), 1);
    conc__loop_unwatch(peer->loop, fd);
}

static void writable_then_modified_to_readable(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct io io = {.loop = loop, .fd = sv[0]};
    assert_int_equal(conc__loop_watch(loop, sv[0], CONC__IO_WRITE, on_write_then_read, &io), 0);
    assert_int_equal(conc__loop_watch(loop, sv[1], CONC__IO_READ, echo_back, &io), 0);
    assert_int_equal(conc_loop_run(loop), 0);
    assert_int_equal(io.calls, 2);
    assert_int_equal(io.got, 1);
    assert_int_equal(io.buf[0], 'y');
    close(sv[0]);
    close(sv[1]);
    conc_loop_free(loop);
}

static void hang_up_reports_readable(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    close(p[1]);
    struct io io = {.loop = loop, .fd = p[0]};
    conc__loop_watch(loop, p[0], CONC__IO_READ, on_read, &io);
    conc_loop_run(loop);
    assert_int_equal(io.calls, 1);
    assert_int_equal(io.events, CONC__IO_READ);
    assert_int_equal(io.got, 0); /* EOF */
    close(p[0]);
    conc_loop_free(loop);
}

/* Two readable pipes in one batch; whichever callback runs first unwatches the other, closes it
 * and watches a fresh (empty) pipe that likely reuses the number: neither the unwatched callback
 * nor the new registration may see the stale event. */
struct pair {
    conc_loop_t *loop;
    int fd[2], wr[2];
    int calls[2];
    int fresh_calls, fresh[2];
    bool reused;
};
static struct pair *the_pair;

static void fresh_cb(void *arg, int fd, unsigned events) {
    (void)arg;
    (void)fd;
    (void)events;
    the_pair->fresh_calls++;
}

static void first_wins(void *arg, int fd, unsigned events) {
    (void)events;
    struct pair *pr = the_pair;
    int me = (int)(intptr_t)arg, other = 1 - me;
    assert_int_equal(fd, pr->fd[me]);
    pr->calls[me]++;
    conc__loop_unwatch(pr->loop, fd);
    conc__loop_unwatch(pr->loop, pr->fd[other]);
    close(pr->fd[other]);
    close(pr->wr[other]);
    assert_int_equal(pipe2(pr->fresh, O_NONBLOCK | O_CLOEXEC), 0);
    pr->reused = pr->fresh[0] == pr->fd[other]; /* Linux hands out the lowest free number */
    assert_int_equal(conc__loop_watch(pr->loop, pr->fresh[0], CONC__IO_READ, fresh_cb, NULL), 0);
    conc_loop_stop(pr->loop);
}

static void unwatch_in_the_same_batch_drops_stale_events(void **state) {
    (void)state;
    struct pair pr = {.loop = conc_loop_new()};
    the_pair = &pr;
    for (int i = 0; i < 2; i++) {
        int p[2];
        assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
        pr.fd[i] = p[0];
        pr.wr[i] = p[1];
        assert_int_equal(write(p[1], "z", 1), 1);
        conc__loop_watch(pr.loop, p[0], CONC__IO_READ, first_wins, (void *)(intptr_t)i);
    }
    conc_loop_run(pr.loop);
    assert_int_equal(pr.calls[0] + pr.calls[1], 1);
    assert_int_equal(pr.fresh_calls, 0);
    assert_true(pr.reused);
    int winner = pr.calls[0] ? 0 : 1;
    conc__loop_unwatch(pr.loop, pr.fresh[0]);
    close(pr.fd[winner]);
    close(pr.wr[winner]);
    close(pr.fresh[0]);
    close(pr.fresh[1]);
    conc_loop_free(pr.loop);
}

/* A thread's write wakes the loop out of epoll_wait (no timers at all: it would block forever). */
struct sleeper {
    uint32_t seq;
    int wfd;
};
static void on_sleep(void *arg) {
    struct sleeper *s = arg;
    __atomic_add_fetch(&s->seq, 1, __ATOMIC_ACQ_REL);
    conc__futex_wake(&s->seq, INT32_MAX, false);
}
static void *write_when_asleep(void *arg) {
    struct sleeper *s = arg;
    while (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == 0)
        conc__wait(&s->seq, 0, conc_deadline(30), false);
    assert_int_equal(write(s->wfd, "ok", 2), 2);
    return NULL;
}

static void write_from_a_thread_wakes_the_loop(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    struct sleeper s = {0, p[1]};
    conc__loop_set_sleep_hook(loop, on_sleep, &s);
    struct io io = {.loop = loop, .fd = p[0]};
    conc__loop_watch(loop, p[0], CONC__IO_READ, on_read, &io);
    pthread_t th;
    pthread_create(&th, NULL, write_when_asleep, &s);
    assert_int_equal(conc_loop_run(loop), 0);
    pthread_join(th, NULL);
    assert_int_equal(io.got, 2);
    close(p[0]);
    close(p[1]);
    conc_loop_free(loop);
}

/* The snapshot rule again: a callback re-scheduling itself forever does not starve a watcher. */
struct spinner {
    conc_loop_t *loop;
    long spins;
};
static void spin(void *arg) {
    struct spinner *s = arg;
    s->spins++;
    conc_call_soon(s->loop, spin, s);
}

static void self_rescheduling_callback_does_not_starve_io(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    struct spinner s = {loop, 0};
    conc_call_soon(loop, spin, &s);
    struct io io = {.loop = loop, .fd = p[0]};
    conc__loop_watch(loop, p[0], CONC__IO_READ, on_read, &io);
    conc_call_soon(loop, write_pipe, &p[1]);
    assert_int_equal(conc_loop_run(loop), 0); /* a hang is the failure */
    assert_int_equal(io.calls, 1);
    /* the busy loop polls at least every 64 callbacks (run.c's POLL_EVERY) */
    assert_true(s.spins >= 1);
    assert_true(s.spins <= 2 * 64 + 2);
    close(p[0]);
    close(p[1]);
    conc_loop_free(loop);
}

static void noop_io(void *arg, int fd, unsigned events) {
    (void)arg;
    (void)fd;
    (void)events;
}

static void watch_errors(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    assert_int_equal(conc__loop_watch(loop, -1, CONC__IO_READ, noop_io, NULL), -EBADF);
    assert_int_equal(conc__loop_watch(loop, p[0], 0, noop_io, NULL), -EINVAL);
    assert_int_equal(conc__loop_watch(loop, p[0], CONC__IO_READ, NULL, NULL), -EINVAL);
    assert_int_equal(conc__loop_unwatch(loop, p[0]), -ENOENT);
    assert_int_equal(conc__loop_unwatch(loop, 100000), -ENOENT);
    char path[] = "/tmp/conc_loop_io_XXXXXX";
    int file = mkstemp(path);
    assert_true(file >= 0);
    unlink(path);
    assert_int_equal(conc__loop_watch(loop, file, CONC__IO_READ, noop_io, NULL), -EPERM);
    close(file);
    /* a watched fd left watched when the loop is freed: nothing leaks */
    assert_int_equal(conc__loop_watch(loop, p[0], CONC__IO_READ, noop_io, NULL), 0);
    assert_int_equal(conc__loop_watch(loop, p[0], CONC__IO_READ | CONC__IO_WRITE, noop_io, NULL),
                     0);
    conc_loop_free(loop);
    close(p[0]);
    close(p[1]);
}

CONC_TEST_MAIN(cmocka_unit_test(pipe_becomes_readable),
               cmocka_unit_test(writable_then_modified_to_readable),
               cmocka_unit_test(hang_up_reports_readable),
               cmocka_unit_test(unwatch_in_the_same_batch_drops_stale_events),
               cmocka_unit_test(write_from_a_thread_wakes_the_loop),
               cmocka_unit_test(self_rescheduling_callback_does_not_starve_io),
               cmocka_unit_test(watch_errors))
