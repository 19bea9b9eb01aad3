/* multiprocessing with the forkserver start method, conc's default (as Python 3.14's on Linux).
 *
 * Python:
 *     ctx = multiprocessing.get_context("forkserver")
 *     procs = [ctx.Process(target=square, args=(i,)) for i in range(4)]
 *     for p in procs: p.start()
 *     multiprocessing.connection.wait([p.sentinel for p in procs])
 *
 * The first start launches a server: a fresh run of this program that stops in conc_init and from
 * then on forks one child per start. Children are forks of a process that never ran a thread, so
 * they are safe whatever threads the parent has (fork is not), and cheap (spawn re-runs the
 * program every time). Every child's parent is the server. Each process has a sentinel: an fd that
 * becomes readable when it ends, for poll() or epoll next to other fds. Daemon children are
 * terminated when the parent exits, and killed if it dies; others are joined at exit. */
#include <conc.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int square(const void *arg, size_t len) {
    int x;
    if (len != sizeof x) return 100;
    memcpy(&x, arg, sizeof x);
    return x * x;
}
CONC_TARGET(square)

static int report_parent(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    printf("child %s: my parent is pid %d\n", conc_process_current_name(), (int)getppid());
    return 0;
}
CONC_TARGET(report_parent)

static int linger(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    for (;;) pause();
    return 0;
}
CONC_TARGET(linger)

int main(int argc, char **argv) {
    conc_init(argc, argv);            /* the server and its children stop here */
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order even through a pipe */
    printf("start method: %s\n",
           conc_get_start_method() == CONC_START_FORKSERVER ? "forkserver" : "other");
    printf("parent pid %d\n", (int)getpid());

    enum { N = 4 };
    conc_process_t *p[N];
    struct pollfd pfd[N];
    for (int i = 0; i < N; i++) {
        int x = i + 2;
        if (conc_process_start(&p[i], "square", &x, sizeof x, NULL) < 0) return 1;
        pfd[i] = (struct pollfd){.fd = conc_process_sentinel(p[i]), .events = POLLIN};
    }
    /* Wait on all sentinels at once, as multiprocessing.connection.wait does. */
    int ended = 0, sum = 0;
    while (ended < N) {
        if (poll(pfd, N, 10000) <= 0) return 1;
        for (int i = 0; i < N; i++) {
            if (pfd[i].fd < 0 || !pfd[i].revents) continue;
            int code;
            conc_process_join(p[i], CONC_FOREVER);
            conc_process_exitcode(p[i], &code);
            printf("%s ended: %d\n", conc_process_name(p[i]), code);
            sum += code;
            pfd[i].fd = -1;
            ended++;
        }
    }
    for (int i = 0; i < N; i++) conc_process_free(p[i]);
    printf("sum of squares: %d\n", sum);

    conc_process_t *r;
    if (conc_process_start(&r, "report_parent", NULL, 0, NULL) < 0) return 1;
    conc_process_join(r, CONC_FOREVER);
    conc_process_free(r);

    /* A daemon child that never ends by itself: terminated at exit, nothing to join. */
    conc_process_opts_t opts = {.daemon = true, .name = "lingerer"};
    conc_process_t *d;
    if (conc_process_start(&d, "linger", NULL, 0, &opts) < 0) return 1;
    printf("%s is running; returning from main terminates it\n", conc_process_name(d));
    conc_process_free(d);
    return sum == 4 + 9 + 16 + 25 ? 0 : 1;
}
