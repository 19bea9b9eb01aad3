/* A subprocess pipeline: `printf ... | sort | uniq -c`, with the pipes between the children made
 * by the program and the last one's output read as a stream, line by line, while a second task
 * keeps running on the same loop (nothing here blocks the thread). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "conc.h"

static void *ticker(void *arg) {
    int *ticks = arg;
    while (conc_sleep(0.001) == 0) ++*ticks;
    return NULL;
}

static void *main_task(void *arg) {
    (void)arg;
    int ticks = 0;
    conc_task_t *t = conc_task_spawn(NULL, ticker, &ticks, NULL);
    int p1[2], p2[2];
    if (pipe2(p1, O_CLOEXEC) < 0 || pipe2(p2, O_CLOEXEC) < 0) return conc_task_error(-EMFILE);
    char *gen[] = {"printf", "pear\\napple\\npear\\nfig\\napple\\npear\\n", NULL};
    char *sort[] = {"sort", NULL};
    char *uniq[] = {"uniq", "-c", NULL};
    conc_subprocess_opts_t o1 = {.stdout_mode = CONC_SUBPROCESS_FD, .stdout_fd = p1[1]};
    conc_subprocess_opts_t o2 = {.stdin_mode = CONC_SUBPROCESS_FD,
                                 .stdin_fd = p1[0],
                                 .stdout_mode = CONC_SUBPROCESS_FD,
                                 .stdout_fd = p2[1]};
    conc_subprocess_opts_t o3 = {
        .stdin_mode = CONC_SUBPROCESS_FD, .stdin_fd = p2[0], .stdout_mode = CONC_SUBPROCESS_PIPE};
    conc_subprocess_t *a, *b, *c;
    int r = conc_subprocess_exec("printf", gen, &o1, &a);
    if (r == 0) r = conc_subprocess_exec("sort", sort, &o2, &b);
    if (r == 0) r = conc_subprocess_exec("uniq", uniq, &o3, &c);
    close(p1[0]), close(p1[1]), close(p2[0]), close(p2[1]); /* the children have them now */
    if (r < 0) return conc_task_error(r);

    char line[128];
    ssize_t n;
    while ((n = conc_stream_readline(conc_subprocess_stdout(c), line, sizeof line - 1)) > 0) {
        line[n] = 0;
        printf("uniq: %s", line);
    }
    int rc[3];
    conc_subprocess_wait(a, &rc[0]);
    conc_subprocess_wait(b, &rc[1]);
    conc_subprocess_wait(c, &rc[2]);
    printf("exit codes: %d %d %d\n", rc[0], rc[1], rc[2]);
    conc_subprocess_free(a);
    conc_subprocess_free(b);
    conc_subprocess_free(c);
    conc_task_cancel(t);
    conc_task_release(t);
    printf("the loop kept running: %s\n", ticks >= 0 ? "yes" : "no");
    return NULL;
}

int main(void) {
    int r = conc_run(main_task, NULL, NULL);
    if (r < 0) fprintf(stderr, "failed: %s\n", conc_strerror(r));
    return r < 0;
}
