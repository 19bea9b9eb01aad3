/* multiprocessing with the spawn start method: the child is a fresh run of this program.
 *
 * Python:
 *     if __name__ == "__main__":
 *         ctx = multiprocessing.get_context("spawn")
 *         p = ctx.Process(target=greet, args=(job,)); p.start(); p.join()
 *
 * The child re-executes this binary: main runs again up to conc_init, which sees that this is a
 * spawned child, runs the target and exits - the C form of Python's `if __name__ == "__main__"`.
 * So conc_init must come first in main, and the child knows only what it was sent: the argument
 * bytes (here a struct), not globals main set after conc_init. The target is found by name, which
 * is why targets are registered with CONC_TARGET. A child's exit code is what its target returns;
 * killed by a signal it is -signo, as Python's exitcode. */
#include <conc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct job {
    int id;
    char word[16];
};

static int set_after_init; /* main sets it to 1; a spawned child never ran that line */

static int greet(const void *arg, size_t len) {
    struct job j;
    if (len != sizeof j) return 100;
    memcpy(&j, arg, sizeof j);
    printf("child %s: job %d says \"%s\"; set_after_init = %d\n", conc_process_current_name(), j.id,
           j.word, set_after_init);
    return j.id;
}
CONC_TARGET(greet)

static int sleep_forever(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    for (;;) pause();
    return 0;
}
CONC_TARGET(sleep_forever)

int main(int argc, char **argv) {
    conc_init(argc, argv); /* a spawned child runs its target in here and never returns */
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order even through a pipe */
    set_after_init = 1;
    conc_set_start_method(CONC_START_SPAWN); /* or per start: opts.method */

    struct job j = {.id = 7};
    snprintf(j.word, sizeof j.word, "hello");
    conc_process_t *p;
    if (conc_process_start(&p, "greet", &j, sizeof j, NULL) < 0) return 1;
    conc_process_join(p, CONC_FOREVER);
    int code;
    conc_process_exitcode(p, &code);
    printf("greet exited with %d\n", code);
    conc_process_free(p);

    /* A child that would run forever: terminate() sends SIGTERM, join returns at once. */
    conc_process_t *q;
    if (conc_process_start(&q, "sleep_forever", NULL, 0, NULL) < 0) return 1;
    printf("sleeper alive: %s\n", conc_process_is_alive(q) ? "yes" : "no");
    printf("join with a 0.1 s timeout: %s\n", conc_errname(conc_process_join(q, 0.1)));
    conc_process_terminate(q);
    conc_process_join(q, CONC_FOREVER);
    int qcode;
    conc_process_exitcode(q, &qcode);
    printf("sleeper alive: %s, exit code %d (-SIGTERM)\n", conc_process_is_alive(q) ? "yes" : "no",
           qcode);
    conc_process_free(q);
    return code == 7 && qcode == -SIGTERM ? 0 : 1;
}
