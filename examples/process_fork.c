/* multiprocessing with the fork start method: the child is a copy of the parent.
 *
 * Python:
 *     ctx = multiprocessing.get_context("fork")
 *     p = ctx.Process(target=work, args=(21,))
 *     p.start(); p.join(); print(p.exitcode)
 *
 * The child sees the parent's memory as it was at the start (here: a table filled in main), and
 * what it changes stays in the child. Its target returns the exit code. fork is fastest, but it
 * copies a process whose other threads may hold locks (malloc's, a library's) that stay held in the
 * child, which is why it is not the default: use it from programs that have not started threads. */
#include <conc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int table[4]; /* filled by main after conc_init: a forked child still sees it */

static int work(const void *arg, size_t len) {
    int x;
    if (len != sizeof x) return 100;
    memcpy(&x, arg, sizeof x);
    printf("child %s: pid %d, parent %d, sees table[3] = %d\n", conc_process_current_name(),
           (int)getpid(), (int)getppid(), table[3]);
    table[3] = -1; /* the child's copy only */
    return x * 2;  /* the exit code: 0..255 */
}
CONC_TARGET(work)

int main(int argc, char **argv) {
    conc_init(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order even through a pipe */
    for (int i = 0; i < 4; i++) table[i] = i * 10;
    conc_process_opts_t opts = {.method = CONC_START_FORK};
    conc_process_t *p;
    int x = 21;
    printf("parent: table[3] = %d, starting a fork child\n", table[3]);
    int r = conc_process_start(&p, "work", &x, sizeof x, &opts);
    if (r < 0) {
        fprintf(stderr, "start: %s\n", conc_strerror(r));
        return 1;
    }
    conc_process_join(p, CONC_FOREVER);
    int code;
    conc_process_exitcode(p, &code);
    printf("%s (pid %d) exit code %d; parent's table[3] is still %d\n", conc_process_name(p),
           (int)conc_process_pid(p), code, table[3]);
    conc_process_free(p);
    return code == 42 && table[3] == 30 ? 0 : 1;
}
