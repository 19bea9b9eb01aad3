/* Loop signal handlers (loop.add_signal_handler): the callback runs on the loop, as an ordinary
 * loop callback, never in signal context.
 *
 * The loop reads its signals from a signalfd watched like any fd. A signalfd only sees signals
 * that are blocked in the thread reading it and pending for that thread or the process, so
 * adding a handler blocks the signal in the calling thread (the loop's: add handlers from a task
 * or callback of the loop, or before running it in the thread that will run it). Other threads
 * may not block it, and the kernel delivers a process-directed signal to any thread that does
 * not; so a forwarding sigaction handler is installed as well: wherever it runs, it re-sends the
 * signal to the loop's thread with tgkill, where it is blocked and so waits in the signalfd. The
 * forwarder is async-signal-safe (one syscall on a word set beforehand).
 *
 * The previous disposition is saved and put back when the handler is removed (or the loop is
 * freed), and the signal is unblocked again in the loop's thread; a signal that came but whose
 * handler had not run yet is dropped with it. This replaces, while installed, conc_init's SIGINT
 * routing (KeyboardInterrupt) or a conc_signal_handle handler for the same signal, as asyncio's
 * add_signal_handler replaces signal.signal's; whichever of the two is installed last wins. One
 * loop at a time may handle a given signal (-EBUSY for another). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../internal/net.h"

#define NSIG_MAX 64

struct conc__sigh {
    void (*cb)(int signo, void *arg);
    void *arg;
};

/* Process-wide, per signal: where the forwarder sends it, and what to restore. Guarded by lock,
 * except `target`, which the forwarder reads. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static conc_loop_t *owner[NSIG_MAX + 1];
static struct sigaction saved[NSIG_MAX + 1];
static pid_t target[NSIG_MAX + 1];

static void forward(int signo) {
    int saved_errno = errno;
    pid_t tid = __atomic_load_n(&target[signo], __ATOMIC_ACQUIRE);
    if (tid > 0) syscall(SYS_tgkill, getpid(), tid, signo);
    errno = saved_errno;
}

struct delivery {
    struct conc__net *net;
    int signo;
};

static void run_handler(void *arg) {
    struct delivery *d = arg;
    struct conc__sigh *h = d->net->sigs ? &d->net->sigs[d->signo] : NULL;
    /* removed since it was queued: dropped */
    if (h && h->cb) h->cb(d->signo, h->arg);
    free(d);
}

static void sigfd_ready(void *arg, int fd, unsigned events) {
    (void)events;
    struct conc__net *net = arg;
    struct signalfd_siginfo si[8];
    ssize_t n;
    while ((n = read(fd, si, sizeof si)) > 0) {
        for (size_t i = 0; i < (size_t)n / sizeof si[0]; i++) {
            int signo = (int)si[i].ssi_signo;
            if (signo < 1 || signo > NSIG_MAX || !net->sigs[signo].cb) continue;
            struct delivery *d = malloc(sizeof *d);
            if (!d) continue;
            d->net = net;
            d->signo = signo;
            if (!conc_call_soon(net->loop, run_handler, d)) free(d);
        }
    }
}

static int valid(int signo) {
    if (signo < 1 || signo > NSIG_MAX || signo == SIGKILL || signo == SIGSTOP || signo == SIGSEGV ||
        signo == SIGBUS || signo == SIGFPE || signo == SIGILL)
        return -EINVAL;
    return 0;
}

static sigset_t mask_of(struct conc__net *net) {
    sigset_t m;
    sigemptyset(&m);
    if (net->sigs)
        for (int s = 1; s <= NSIG_MAX; s++)
            if (net->sigs[s].cb) sigaddset(&m, s);
    return m;
}

/* Point the signalfd at the current set (closing it when empty). */
static int update_fd(struct conc__net *net) {
    sigset_t m = mask_of(net);
    if (sigisemptyset(&m)) {
        if (net->sigfd >= 0) {
            conc__loop_unwatch(net->loop, net->sigfd);
            close(net->sigfd);
            net->sigfd = -1;
        }
        return 0;
    }
    int fd = signalfd(net->sigfd, &m, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) return -errno;
    if (net->sigfd < 0) {
        int r = conc__net_watch(net->loop, fd, CONC__IO_READ, sigfd_ready, net);
        if (r < 0) {
            close(fd);
            return r;
        }
        net->sigfd = fd;
    }
    return 0;
}

int conc_loop_add_signal_handler(conc_loop_t *loop, int signo, void (*cb)(int signo, void *arg),
                                 void *arg) {
    if (!loop) loop = conc_loop_current();
    if (!loop || !cb) return -EINVAL;
    int r = valid(signo);
    if (r < 0) return r;
    struct conc__net *net = conc__net_of(loop);
    if (!net) return -ENOMEM;
    if (!net->sigs && !(net->sigs = calloc(NSIG_MAX + 1, sizeof *net->sigs))) return -ENOMEM;
    pthread_mutex_lock(&lock);
    if (owner[signo] && owner[signo] != loop) {
        pthread_mutex_unlock(&lock);
        return -EBUSY;
    }
    bool fresh = owner[signo] == NULL;
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, signo);
    pthread_sigmask(SIG_BLOCK, &one, &old);
    struct conc__sigh before = net->sigs[signo];
    net->sigs[signo] = (struct conc__sigh){cb, arg};
    r = update_fd(net);
    if (r == 0 && fresh) {
        __atomic_store_n(&target[signo], (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = forward;
        sigfillset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        conc__signals_flush();
        if (sigaction(signo, &sa, &saved[signo]) < 0) r = -errno;
    }
    if (r < 0) {
        net->sigs[signo] = before;
        update_fd(net);
        if (fresh) {
            __atomic_store_n(&target[signo], 0, __ATOMIC_RELEASE);
            if (!sigismember(&old, signo)) pthread_sigmask(SIG_UNBLOCK, &one, NULL);
        }
    } else {
        owner[signo] = loop;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

/* lock held; the loop's thread */
static void remove_locked(struct conc__net *net, int signo) {
    net->sigs[signo] = (struct conc__sigh){NULL, NULL};
    update_fd(net);
    conc__signals_flush();
    sigaction(signo, &saved[signo], NULL);
    __atomic_store_n(&target[signo], 0, __ATOMIC_RELEASE);
    owner[signo] = NULL;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    /* drop what came and was not handled, rather than have it hit the restored disposition */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&one, NULL, &zero) == signo) {
    }
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
}

bool conc_loop_remove_signal_handler(conc_loop_t *loop, int signo) {
    if (!loop) loop = conc_loop_current();
    if (!loop || valid(signo) < 0) return false;
    struct conc__net *net = *conc__loop_slot(loop, CONC__LOOP_SLOT_IO);
    if (!net || !net->sigs || !net->sigs[signo].cb) return false;
    pthread_mutex_lock(&lock);
    remove_locked(net, signo);
    pthread_mutex_unlock(&lock);
    return true;
}

void conc__net_sig_free(struct conc__net *net) {
    if (!net->sigs) return;
    pthread_mutex_lock(&lock);
    for (int s = 1; s <= NSIG_MAX; s++)
        if (net->sigs[s].cb) remove_locked(net, s);
    pthread_mutex_unlock(&lock);
    free(net->sigs);
    net->sigs = NULL;
}
