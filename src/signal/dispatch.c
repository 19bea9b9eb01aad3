/* The signal dispatcher: conc_signal_handle handlers run as ordinary calls in one thread.
 *
 * A C signal handler may do almost nothing (no locks, no malloc, no stdio), so the one conc
 * installs only sets the signal's bit in an atomic mask and writes to an eventfd. A raw pthread,
 * "conc-signals", started on the first registration, sleeps in read() on the eventfd, swaps the
 * mask to zero and calls the registered handlers; they may lock, allocate and log. The catching
 * handler runs in whichever thread the kernel picks; the dispatcher itself blocks every signal so
 * it only ever hears of them through the eventfd. Threads conc starts block SIGINT, SIGTERM,
 * SIGTSTP and SIGQUIT, so those reach the main thread (or another thread that does not block them)
 * and from there the dispatcher; nothing depends on which thread catches a signal.
 *
 * Signals of one kind that arrive before the dispatcher gets to them are merged, as in CPython.
 *
 * fork: the child has no dispatcher thread and would share the parent's eventfd (its signals
 * would wake the parent's dispatcher, which finds its own mask empty). The atfork child handler
 * gives the child a fresh eventfd and, if the parent had a dispatcher, a new one. Signals are
 * blocked in the forking thread across fork(), so a signal that reaches the child before that is
 * done stays pending in the kernel and is delivered to the child's new setup. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "priv.h"

#define NSIGNALS   64
#define BIT(signo) (UINT64_C(1) << ((signo)-1))

struct slot {
    conc__sig_fn fn;
    void *arg;
};

/* The registry lock guards everything below except what the C handler touches (efd, pending). */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[NSIGNALS + 1];
static bool keyboard_interrupt; /* conc_init asked for SIGINT -> -EINTR */
static bool running;            /* a dispatcher thread exists in this process */
static sigset_t fork_saved_mask;

static uint32_t ready;   /* the dispatcher set it up and is about to sleep on efd */
static int efd = -1;     /* the C handler writes here; recreated in a fork child */
static uint64_t pending; /* BIT(signo) for every signal caught and not yet dispatched */
static uint64_t batch;   /* the dispatcher's current batch; only the dispatcher uses it */

static void register_atfork(void);

/* Every path into the registry comes through here, so the fork handlers that keep the lock sane
 * in a child are registered before anyone can hold it. */
void conc__signal_lock(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_atfork);
    pthread_mutex_lock(&reg_lock);
}

void conc__signal_unlock(void) {
    pthread_mutex_unlock(&reg_lock);
}

/* The C handler: async-signal-safe, errno preserved. */
static void on_signal(int signo) {
    int saved = errno;
    __atomic_or_fetch(&pending, BIT(signo), __ATOMIC_SEQ_CST);
    int fd = __atomic_load_n(&efd, __ATOMIC_ACQUIRE);
    uint64_t one = 1;
    if (fd >= 0) (void)!write(fd, &one, sizeof one);
    errno = saved;
}

static void run(int signo) {
    pthread_mutex_lock(&reg_lock);
    struct slot s = slots[signo];
    pthread_mutex_unlock(&reg_lock);
    /* called unlocked: a handler may register handlers */
    if (s.fn) s.fn(signo, s.arg);
}

bool conc__signal_coming(int signo) {
    return (batch | __atomic_load_n(&pending, __ATOMIC_ACQUIRE)) & BIT(signo);
}

static void *dispatcher(void *unused) {
    (void)unused;
    pthread_setname_np(pthread_self(), "conc-signals");
    int fd = __atomic_load_n(&efd, __ATOMIC_ACQUIRE);
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&ready, 1, false);
    for (;;) {
        uint64_t n;
        if (read(fd, &n, sizeof n) < 0) {
            if (errno == EINTR) continue;
            return NULL; /* cannot happen: the fd stays open for the life of this process */
        }
        batch = __atomic_exchange_n(&pending, 0, __ATOMIC_ACQ_REL);
        /* A stop request before anything else: when SIGTSTP and the SIGCONT that ended it come in
         * one batch, before_stop must still run before after_continue (stop.c). */
        if (batch & BIT(SIGTSTP)) run(SIGTSTP);
        for (int s = 1; s <= NSIGNALS; s++)
            if (s != SIGTSTP && (batch & BIT(s))) run(s);
        batch = 0;
    }
}

/* Registry lock held. */
static int start_dispatcher(void) {
    if (running) return 0;
    int fd = __atomic_load_n(&efd, __ATOMIC_RELAXED);
    if (fd < 0) {
        fd = eventfd(0, EFD_CLOEXEC);
        if (fd < 0) return -errno;
        __atomic_store_n(&efd, fd, __ATOMIC_RELEASE);
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread inherits "everything blocked" */
    pthread_t th;
    int e = pthread_create(&th, &attr, dispatcher, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (e) return -e;
    running = true;
    /* Return once the thread is set up. Its start allocates (glibc, and sanitizer runtimes);
     * a fork right after conc_signal_handle would otherwise copy those allocator locks held. */
    while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
        conc__wait_nointr(&ready, 0, INFINITY, false);
    return 0;
}

static void before_fork(void) {
    pthread_mutex_lock(&reg_lock);
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &fork_saved_mask);
}

static void after_fork_parent(void) {
    pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
    pthread_mutex_unlock(&reg_lock);
}

static void after_fork_child(void) {
    /* The parent's undispatched signals are the parent's (as CPython's _PySignal_AfterFork). */
    __atomic_store_n(&pending, 0, __ATOMIC_RELAXED);
    batch = 0;
    int old = __atomic_load_n(&efd, __ATOMIC_RELAXED);
    if (old >= 0) {
        int fd = eventfd(0, EFD_CLOEXEC);
        __atomic_store_n(&efd, fd, __ATOMIC_RELEASE); /* -1 on failure: retried on next use */
        close(old);
    }
    /* If this fails the child has no dispatcher until its next conc_signal_handle call. */
    if (running) {
        running = false;
        ready = 0;
        if (__atomic_load_n(&efd, __ATOMIC_RELAXED) >= 0) start_dispatcher();
    }
    pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
    pthread_mutex_unlock(&reg_lock);
}

static void register_atfork(void) {
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static int set_action(int signo, void (*handler)(int)) {
    conc__signals_flush(); /* TSan: see internal/base.h */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    /* A SIGINT landing inside this handler would see this handler's context, not the main thread's
     * blocked recv it may have interrupted (base/intr_syscall.c): let it in only after we return. */
    sigaddset(&sa.sa_mask, SIGINT);
    sa.sa_flags = handler == SIG_DFL ? 0 : CONC_SA_FLAGS;
    return sigaction(signo, &sa, NULL) < 0 ? -errno : 0;
}

int conc__signal_set(int signo, conc__sig_fn fn, void *arg) {
    int r = 0;
    conc__signal_lock();
    if (fn) {
        r = start_dispatcher();
        if (r == 0) {
            struct slot before = slots[signo];
            slots[signo] = (struct slot){fn, arg};
            r = set_action(signo, on_signal);
            if (r < 0)
                slots[signo] = before;
            else if (signo == SIGINT)
                conc__interrupt_uninstall();
        }
    } else {
        slots[signo] = (struct slot){NULL, NULL};
        if (signo == SIGINT && keyboard_interrupt)
            r = conc__interrupt_install();
        else
            r = set_action(signo, SIG_DFL);
    }
    pthread_mutex_unlock(&reg_lock);
    return r;
}

int conc__signal_keyboard_interrupt(void) {
    int r = 0;
    conc__signal_lock();
    /* A SIGINT handler registered before conc_init stays: it replaced KeyboardInterrupt. */
    if (!slots[SIGINT].fn) r = conc__interrupt_install();
    if (r == 0) keyboard_interrupt = true;
    pthread_mutex_unlock(&reg_lock);
    return r;
}
