/* signal.signal(SIGUSR1, handler), with the handler running as an ordinary function call.
 *
 * A C signal handler runs in "async-signal context": it may interrupt any code, holding any lock,
 * so it must not lock, allocate or print. CPython hides this by only recording the signal and
 * running the Python handler later in the main thread. conc does the same, but in a dispatcher
 * thread: the handler runs in ordinary thread context, so it may take locks, malloc and printf,
 * and it runs even while the main thread is busy or blocked. SIGKILL and SIGSTOP cannot be
 * handled at all, and the fault signals (SIGSEGV, ...) cannot be handled from another thread:
 * -EINVAL. */
#define _GNU_SOURCE
#include <conc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct seen {
    conc_lock_t lock;
    conc_event_t done;
    pid_t tid;
    char name[32], os_name[16]; /* conc's name for the thread, and the kernel's */
};

static void on_usr1(int signo, void *arg) {
    struct seen *s = arg;
    conc_lock_acquire(&s->lock, CONC_FOREVER); /* not allowed in a real signal handler */
    char *msg = malloc(64);                    /* nor this */
    snprintf(msg, 64, "handler: got %s", strsignal(signo));
    printf("%s\n", msg); /* nor this */
    free(msg);
    s->tid = gettid();
    snprintf(s->name, sizeof s->name, "%s", conc_thread_name(conc_thread_current()));
    pthread_getname_np(pthread_self(), s->os_name, sizeof s->os_name);
    conc_lock_release(&s->lock);
    conc_event_set(&s->done);
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    static struct seen s = {.lock = CONC_LOCK_INIT, .done = CONC_EVENT_INIT};
    int err = conc_signal_handle(SIGUSR1, on_usr1, &s);
    if (err < 0) return 1;

    kill(getpid(), SIGUSR1);
    err = conc_event_wait(&s.done, 5.0);
    conc_lock_acquire(&s.lock, CONC_FOREVER);
    printf("main: the handler ran in thread \"%s\" (OS name \"%s\", tid %d); the main thread is "
           "tid %d\n",
           s.name, s.os_name, (int)s.tid, (int)gettid());
    int elsewhere = err == 0 && s.tid != gettid();
    conc_lock_release(&s.lock);
    if (!elsewhere) return 1;

    conc_signal_handle(SIGUSR1, NULL, NULL); /* back to the default action (signal.SIG_DFL) */
    err = conc_signal_handle(SIGKILL, on_usr1, &s);
    printf("main: handling SIGKILL: %s (nothing can catch it)\n", conc_errname(err));
    return err == -EINVAL ? 0 : 1;
}
