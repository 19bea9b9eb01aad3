/* The second Ctrl+C kills: a program that ignores -EINTR can still be stopped.
 *
 * conc turns the first SIGINT into -EINTR for the main thread. If another SIGINT comes while the
 * first is still unconsumed (nobody called a blocking conc_ function or conc_check_interrupt in
 * the main thread since), conc gives up on politeness: it restores the default action and the
 * process dies of SIGINT, as a shell user expects after pressing Ctrl+C twice. CPython has no
 * such escape hatch: a main thread stuck in C code ignores every Ctrl+C.
 *
 * Each scenario runs in a forked child that sends itself SIGINT twice. */
#include <conc.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_child(int consume_first) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        kill(getpid(), SIGINT);                    /* Ctrl+C */
        if (consume_first) conc_check_interrupt(); /* the program notices it */
        kill(getpid(), SIGINT);                    /* Ctrl+C again */
        if (consume_first) conc_check_interrupt();
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return status;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);

    int status = run_child(0);
    printf("ignored first Ctrl+C, then a second: child %s\n",
           WIFSIGNALED(status) && WTERMSIG(status) == SIGINT ? "killed by SIGINT" : "survived");
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGINT) return 1;

    status = run_child(1);
    printf("consumed each Ctrl+C (-EINTR): child %s\n",
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "exited normally" : "was killed");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
