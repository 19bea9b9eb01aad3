/* threading.Thread: start, join and the rest of a thread's life.
 *
 * The budget is pthread_create + pthread_join: a thread start costs one malloc (object and name in
 * one block), one uncontended registry lock and two syscalls on top - reading the creator's signal
 * mask, and the prctl in the new thread that makes its name visible to top and gdb. Syscalls are
 * what counts (more than a microsecond each on a virtual machine), so the tid comes without one and
 * the thread wakes no joiner itself when a pthread_join can be woken by the kernel instead.
 *
 * The pthread is joinable: a join without timeout is pthread_join, any other wait sleeps on the
 * object's state word (internal/thread.h says why), and whoever drops the last reference detaches
 * the pthread unless a join reaped it, so a handle can be released at any time.
 *
 * Async signals: the new thread starts with SIGINT/SIGTERM/SIGTSTP/SIGQUIT blocked from its first
 * instruction, through the pthread attribute (see set_thread_sigmask). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../internal/thread.h"

static uint32_t counter; /* "Thread-N" and "Dummy-N" share it, as in Python */

conc_thread_t *conc__thread_alloc(const char *name, const char *tmpl) {
    char gen[32];
    if (!name || !*name) {
        snprintf(gen, sizeof gen, "%s-%u", tmpl, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
        name = gen;
    }
    size_t len = strlen(name) + 1;
    conc_thread_t *t = malloc(sizeof *t + len);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    t->name = memcpy((char *)(t + 1), name, len);
    return t;
}

void conc__thread_unref(conc_thread_t *t) {
    if (t->kind == CONC__THREAD_MAIN) return; /* static */
    if (conc__sub(&t->refs, 1) != 0) return;
    /* Nobody can join it any more: let it reap itself (or be reaped now, if it has exited). */
    if (t->kind == CONC__THREAD_STARTED && !__atomic_load_n(&t->reaped, __ATOMIC_ACQUIRE))
        pthread_detach((pthread_t)__atomic_load_n(&t->ident, __ATOMIC_RELAXED));
    free(t);
}

void conc__thread_post(conc_thread_t *t, uint32_t bits) {
    /* Only the waiters for these bits are woken; their WAIT_ bit is cleared with the post. */
    uint32_t waitbits = 0;
    if (bits & CONC__T_RUNNING) waitbits |= CONC__T_WAIT_RUN;
    if (bits & CONC__T_DONE) waitbits |= CONC__T_WAIT_DONE | CONC__T_WAIT_RUN;
    uint32_t old = conc__load_rlx(&t->state);
    while (!conc__cas(&t->state, &old, (old | bits) & ~waitbits)) {
    }
    if (old & waitbits) conc__futex_wake(&t->state, INT_MAX, false);
}

/* Sleep until one of bits is set in t->state. */
static int await_state(conc_thread_t *t, uint32_t bits, uint32_t waitbit, double deadline,
                       bool interruptible) {
    for (;;) {
        uint32_t v = conc__load(&t->state);
        if (v & bits) return 0;
        if (!(v & waitbit)) {
            if (!conc__cas(&t->state, &v, v | waitbit)) continue;
            v |= waitbit;
        }
        int r = interruptible ? conc__wait(&t->state, v, deadline, false)
                              : conc__wait_nointr(&t->state, v, deadline, false);
        if (r == -ETIMEDOUT && (conc__load(&t->state) & bits)) return 0;
        if (r < 0) return r;
    }
}

static void set_os_name(const char *name) {
    char comm[16]; /* the kernel keeps 15 characters */
    size_t n = strlen(name);
    if (n > 15) n = 15;
    memcpy(comm, name, n);
    comm[n] = 0;
    pthread_setname_np(pthread_self(), comm); /* on itself: one prctl, no /proc write */
}

/* Runs when fn returns and also when the thread leaves by pthread_exit or cancellation, so that
 * join and the exit-time join never wait for a thread that is gone. */
static void finish(void *p) {
    conc_thread_t *t = p;
    conc__reg_remove(t); /* first: a joiner that wakes up no longer sees it in enumerate() */
    conc__self = NULL;   /* TLS destructors that run later must not see a freed object */
    conc__thread_post(t, CONC__T_DONE);
    conc__thread_unref(t);
}

/* The kernel's id of a thread without a syscall (they cost more than a microsecond here, a tenth
 * of a thread start-up): pthread_getcpuclockid encodes it in the clock id, by the kernel ABI's
 * MAKE_THREAD_CPUCLOCK (~tid << 3 | CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED). 0 if the thread has
 * exited (the kernel clears the tid it set) or the encoding is not that one. */
static pid_t tid_of(pthread_t pt) {
    clockid_t c;
    if (pthread_getcpuclockid(pt, &c) != 0 || (c & 7) != 6) return 0;
    return (pid_t) ~(c >> 3);
}

static void *trampoline(void *p) {
    conc_thread_t *t = p;
    conc__self = t;
    pid_t tid = tid_of(pthread_self());
    __atomic_store_n(&t->tid, tid ? tid : conc__self_tid(), __ATOMIC_RELAXED);
    __atomic_store_n(&t->ident, (uint64_t)pthread_self(), __ATOMIC_RELAXED);
    set_os_name(t->name);
    conc__thread_post(t, CONC__T_RUNNING);
    pthread_cleanup_push(finish, t);
    t->result = t->fn(t->arg);
    pthread_cleanup_pop(1);
    return NULL;
}

/* The new thread's signal mask: the creator's (as pthread_create would give it) plus the
 * asynchronous signals, which must reach the main thread - the set conc__block_async_signals
 * blocks. Given through the attribute, pthread_create installs it in the new thread while it
 * still has every signal blocked, so there is no window, and it costs one syscall (reading the
 * mask) instead of blocking and restoring the creator's. */
static int set_thread_sigmask(pthread_attr_t *attr) {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGTSTP);
    sigaddset(&mask, SIGQUIT);
    return pthread_attr_setsigmask_np(attr, &mask);
}

int conc_thread_start(conc_thread_t **out, conc_thread_fn fn, void *arg,
                      const conc_thread_opts_t *opts) {
    if (!out || !fn) return -EINVAL;
    bool daemon;
    if (opts) {
        daemon = opts->daemon;
    } else {
        conc_thread_t *cur = conc_thread_current();
        daemon = cur ? cur->daemon : false;
    }
    pthread_attr_t attr;
    int e = pthread_attr_init(&attr);
    if (e) return -e;
    if (opts && opts->stack_size) e = pthread_attr_setstacksize(&attr, opts->stack_size);
    if (!e) e = set_thread_sigmask(&attr);
    conc_thread_t *t = NULL;
    if (!e && !(t = conc__thread_alloc(opts ? opts->name : NULL, "Thread"))) e = ENOMEM;
    if (e) {
        pthread_attr_destroy(&attr);
        return -e;
    }
    t->kind = CONC__THREAD_STARTED;
    t->daemon = daemon;
    t->fn = fn;
    t->arg = arg;
    t->refs = 2; /* the handle and the running thread */

    conc__shutdown_register();
    conc__reg_add(t); /* before it runs, as Python's _limbo: alive from the moment start returns */
    pthread_t pt;
    e = pthread_create(&pt, &attr, trampoline, t);
    pthread_attr_destroy(&attr);
    if (e) {
        conc__reg_remove(t);
        free(t);
        return -e;
    }
    __atomic_store_n(&t->ident, (uint64_t)pt, __ATOMIC_RELAXED);
    pid_t tid = tid_of(pt); /* 0 if it already exited: then it stored its tid itself */
    if (tid) __atomic_store_n(&t->tid, tid, __ATOMIC_RELAXED);
    *out = t;
    return 0;
}

/* A join without timeout, through pthread_join: the kernel wakes us as the thread exits (see
 * internal/thread.h). Only one joiner may, and only once. In the main thread after conc_init a
 * SIGINT must end the wait, which pthread_join never does: there it waits in slices of 20 ms and
 * checks for an interrupt between them (a Ctrl+C is noticed within 20 ms; the join itself still
 * ends the moment the thread exits). Returns 1 when joined, 0 if the caller must use the futex
 * word instead, or -EINTR. */
static int join_forever(conc_thread_t *t) {
    if (t->kind != CONC__THREAD_STARTED || __atomic_load_n(&t->reaped, __ATOMIC_ACQUIRE)) return 0;
    if (t == conc_thread_main()) return 0; /* a fork child's: done at exit, it never returns */
    uint32_t free_ = 0;
    if (!conc__cas(&t->joiner, &free_, 1)) return 0;
    pthread_t pt = (pthread_t)conc_thread_ident(t);
    int e;
    if (!__atomic_load_n(&conc__intr_enabled, __ATOMIC_RELAXED) || !conc__is_main_thread()) {
        e = pthread_join(pt, NULL);
    } else {
        do {
            if (conc__intr_take()) {
                conc__store(&t->joiner, 0);
                return -EINTR;
            }
            struct timespec ts; /* pthread_timedjoin_np takes CLOCK_REALTIME */
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 20 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            e = pthread_timedjoin_np(pt, NULL, &ts);
        } while (e == ETIMEDOUT);
    }
    if (e == 0) {
        __atomic_store_n(&t->reaped, true, __ATOMIC_RELEASE);
        return 1; /* joiner stays 1: the pthread is gone */
    }
    conc__store(&t->joiner, 0);
    return 0;
}

int conc_thread_join(conc_thread_t *t, double timeout, void **result) {
    if (!t || t->kind == CONC__THREAD_DUMMY) return -EINVAL; /* Python: "cannot join a dummy" */
    uint32_t v = conc__load(&t->state);
    if (!(v & CONC__T_DONE)) {
        bool self =
            t == conc__self || ((v & CONC__T_RUNNING) &&
                                __atomic_load_n(&t->tid, __ATOMIC_RELAXED) == conc__self_tid());
        if (self) return -EDEADLK;
        int r = timeout < 0 ? join_forever(t) : 0;
        if (r < 0) return r;
        if (r == 1) goto done;
        r = await_state(t, CONC__T_DONE, CONC__T_WAIT_DONE, conc_deadline(timeout), true);
        if (r < 0) return r;
    }
done:
    if (result) *result = t->result;
    return 0;
}

bool conc_thread_is_alive(conc_thread_t *t) {
    return t && !(conc__load(&t->state) & CONC__T_DONE);
}

bool conc_thread_is_daemon(conc_thread_t *t) {
    return t && t->daemon;
}

const char *conc_thread_name(conc_thread_t *t) {
    return t ? t->name : NULL;
}

/* Python's start() returns only once the thread runs, so ident and native_id are always known;
 * here start does not wait (it would cost a context switch per thread), these two do instead. */
static void await_running(conc_thread_t *t) {
    await_state(t, CONC__T_RUNNING | CONC__T_DONE, CONC__T_WAIT_RUN, INFINITY, false);
}

uint64_t conc_thread_ident(conc_thread_t *t) {
    if (!t) return 0;
    uint64_t id = __atomic_load_n(&t->ident, __ATOMIC_RELAXED);
    if (id) return id;
    await_running(t);
    return __atomic_load_n(&t->ident, __ATOMIC_RELAXED);
}

pid_t conc_thread_native_id(conc_thread_t *t) {
    if (!t) return 0;
    pid_t id = __atomic_load_n(&t->tid, __ATOMIC_RELAXED);
    if (id) return id;
    await_running(t);
    return __atomic_load_n(&t->tid, __ATOMIC_RELAXED);
}

void conc_thread_release(conc_thread_t *t) {
    if (t && t->kind == CONC__THREAD_STARTED) conc__thread_unref(t);
}
