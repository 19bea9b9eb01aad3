/* Internal base layer: atomics shorthands, the futex wrapper, the interrupt-aware wait every
 * blocking call goes through, and cached thread/process ids. Nothing here is exported. */
#ifndef CONC_INTERNAL_BASE_H
#define CONC_INTERNAL_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONC_HIDDEN       __attribute__((visibility("hidden")))
#define conc__likely(x)   __builtin_expect(!!(x), 1)
#define conc__unlikely(x) __builtin_expect(!!(x), 0)

#define conc__load(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define conc__load_rlx(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define conc__store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define conc__xchg(p, v)  __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define conc__add(p, v)   __atomic_add_fetch((p), (v), __ATOMIC_ACQ_REL)
#define conc__sub(p, v)   __atomic_sub_fetch((p), (v), __ATOMIC_ACQ_REL)
#define conc__cas(p, e, d)                                                                         \
    __atomic_compare_exchange_n((p), (e), (d), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)

/* Futex operations. shared: the word may live in memory shared between processes. */
CONC_HIDDEN int conc__futex_wake(uint32_t *word, int n, bool shared);

/* Sleep while *word == val, until woken or the absolute monotonic deadline (INFINITY: none).
 * Returns 0 when woken or the value had changed (callers always re-check their condition),
 * -ETIMEDOUT once the deadline passed, or -EINTR when this is the main thread after conc_init and a
 * SIGINT is pending: the interrupt is consumed (KeyboardInterrupt raised). */
CONC_HIDDEN int conc__wait(uint32_t *word, uint32_t val, double deadline, bool shared);
/* The same, never interrupted: for waits that must finish (re-acquiring a condition's lock). */
CONC_HIDDEN int conc__wait_nointr(uint32_t *word, uint32_t val, double deadline, bool shared);

/* The fd counterpart (base/fdwait.c): ppoll on fds (struct pollfd *) until one is ready (> 0, the
 * count of fds with revents), the absolute deadline passes (-ETIMEDOUT; a past deadline still polls
 * once), or, when intr is set and conc__intr_here(), a SIGINT arrives (-EINTR, consumed). Other
 * signals never end the wait. conc__intr_here: this thread's blocking calls report SIGINT. */
struct pollfd;
CONC_HIDDEN int conc__wait_fds(struct pollfd *fds, size_t n, double deadline, bool intr);
CONC_HIDDEN bool conc__intr_here(void);
/* An eventfd the SIGINT handler writes to once base/fdwait.c created it (-1 until then), so a
 * SIGINT also ends a ppoll that started after the count was checked. */
CONC_HIDDEN extern int conc__intr_efd;
/* conc__intr_efd, created on first use: the fd, or -errno. Not built under TSan (see fdwait.c). */
CONC_HIDDEN int conc__intr_fd(void);

/* ThreadSanitizer defers a signal handler that interrupts uninstrumented code (our raw futex
 * syscalls) until the thread next passes through an intercepted call or an atomic operation. The
 * signal module therefore installs its handlers without SA_RESTART in TSan builds (a futex sleep
 * then ends with EINTR instead of being restarted by the kernel with the handler still unrun), and
 * the waits call conc__signals_flush() to run such a deferred handler before they look at what it
 * writes; it also readies TSan's per-thread signal state (see base/futex.c). Outside TSan both are
 * no-ops. */
#if defined(__SANITIZE_THREAD__)
#define CONC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONC_TSAN 1
#endif
#endif
#ifdef CONC_TSAN
CONC_HIDDEN void conc__signals_flush(void);
#else
static inline void conc__signals_flush(void) {}
#endif

/* A syscall the main thread can block in without missing a SIGINT (base/intr_syscall.c): returns
 * the kernel's result (-errno on failure), or -EINTR without making the call when a SIGINT is
 * pending or arrives before the call completes. Only x86_64, and not under TSan (which runs handlers
 * too late for it); elsewhere the waits use conc__wait_fds. conc__intr_redirect is for the SIGINT
 * handler, in the main thread, after counting: it moves an instruction pointer inside
 * [conc__intr_begin, conc__intr_end) to conc__intr_cancel. */
#if defined(__x86_64__) && !defined(CONC_TSAN)
#define CONC__HAVE_INTR_SYSCALL 1
#else
#define CONC__HAVE_INTR_SYSCALL 0
#endif
#if CONC__HAVE_INTR_SYSCALL
CONC_HIDDEN long conc__intr_syscall(long nr, long a1, long a2, long a3, long a4, long a5);
CONC_HIDDEN void conc__intr_redirect(void *ucontext);
CONC_HIDDEN extern const char conc__intr_begin[], conc__intr_end[], conc__intr_cancel[];
#endif

/* Interrupt state, written by the signal module's SIGINT handler. */
CONC_HIDDEN extern uint32_t conc__intr_seq;     /* futex word bumped on every SIGINT */
CONC_HIDDEN extern uint32_t conc__intr_pending; /* SIGINTs not yet consumed */
CONC_HIDDEN extern int conc__intr_enabled;      /* conc_init installed the routing */
CONC_HIDDEN bool conc__intr_take(void);         /* consume one pending SIGINT */
CONC_HIDDEN bool conc__is_main_thread(void);

/* Cached ids: gettid() per thread and getpid(), both reset in a fork child. The tid is read inline
 * on every RLock acquire; initial-exec keeps that a single %fs-relative load in the shared library
 * too, instead of a call to __tls_get_addr. */
CONC_HIDDEN extern __thread pid_t conc__tls_tid __attribute__((tls_model("initial-exec")));
CONC_HIDDEN pid_t conc__self_tid_slow(void);
static inline pid_t conc__self_tid(void) {
    pid_t t = conc__tls_tid;
    return conc__likely(t != 0) ? t : conc__self_tid_slow();
}
CONC_HIDDEN pid_t conc__self_pid(void);
CONC_HIDDEN pid_t conc__main_tid(void);
/* Forget the cached ids: the atfork child handler, also called by hand after a fork that runs no
 * handlers (the forkserver's). */
CONC_HIDDEN void conc__ids_after_fork(void);

/* True if the thread or process id no longer names a live task (gone, or a zombie). Used to
 * recover process-shared locks whose owner was SIGKILLed. */
CONC_HIDDEN bool conc__task_dead(pid_t id, bool whole_process);

#endif
