/* Stack overflow in a task: reported with the task's name, never silent corruption.
 *
 * A task that runs off its stack touches the guard region below it (stack.c) and takes SIGSEGV.
 * The handler runs on an alternate signal stack (the task's own stack is the one that is full),
 * looks at the fiber this thread was running, and if the fault address is in that fiber's guard -
 * or the stack pointer is below the stack, for a frame big enough to jump the guard - it writes
 * "conc: task 'NAME' overflowed its N-byte stack" and aborts: the one abort in the library, a
 * crash being explained rather than caused. Any other fault goes to the handler that was installed
 * before (a sanitizer's, the user's), or to the default action.
 *
 * The handler is installed once, when the first fiber is set up; each thread that runs tasks gets
 * a 64 KiB alternate stack unless it already has one, freed when the thread exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include "fiber.h"

#define ALTSTACK_SIZE (64u * 1024u)

static struct sigaction prev_segv, prev_bus;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static uintptr_t fault_sp(void *ucv) {
    ucontext_t *uc = ucv;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return UINTPTR_MAX;
#endif
}

static bool overflowed(const struct conc__fiber *f, uintptr_t addr, uintptr_t sp) {
    if (!f || !f->stack.map) return false;
    uintptr_t map = (uintptr_t)f->stack.map, lo = (uintptr_t)f->stack.lo;
    if (addr >= map && addr < lo) return true;
    /* A frame larger than the guard skips it: the stack pointer is then below the stack (but not
     * absurdly far: that would be a corrupted sp, not an overflow). */
    return sp < lo && lo - sp <= (uintptr_t)64 << 20 && addr < lo;
}

static size_t put(char *buf, size_t at, size_t cap, const char *s) {
    while (*s && at < cap) buf[at++] = *s++;
    return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, unsigned long long v) {
    char num[24];
    size_t k = 0;
    do num[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < sizeof num);
    while (k && at < cap) buf[at++] = num[--k];
    return at;
}

static void report(const struct conc__fiber *f) {
    char buf[320];
    size_t n = put(buf, 0, sizeof buf, "conc: task '");
    if (f->name) {
        n = put(buf, n, 200, f->name);
    } else {
        n = put(buf, n, sizeof buf, "Task-");
        n = put_num(buf, n, sizeof buf, f->id);
    }
    n = put(buf, n, sizeof buf, "' overflowed its ");
    n = put_num(buf, n, sizeof buf, f->stack.size);
    n = put(buf, n, sizeof buf, "-byte stack\n");
    ssize_t w = write(STDERR_FILENO, buf, n);
    (void)w;
}

static void chain(int sig, siginfo_t *si, void *uc) {
    struct sigaction *p = sig == SIGSEGV ? &prev_segv : &prev_bus;
    if (p->sa_flags & SA_SIGINFO) {
        if (p->sa_sigaction) {
            p->sa_sigaction(sig, si, uc);
            return;
        }
    } else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
        p->sa_handler(sig);
        return;
    }
    /* The default action: reinstate it; a fault re-executes the instruction and now kills the
     * process as it would have (core dump included); a signal sent by kill() is raised again. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    if (si->si_code <= 0) raise(sig);
}

static void on_fault(int sig, siginfo_t *si, void *uc) {
    const struct conc__fiber *f = conc__fiber_running;
    if (si->si_code > 0 && overflowed(f, (uintptr_t)si->si_addr, fault_sp(uc))) {
        report(f);
        abort();
    }
    chain(sig, si, uc);
}

static void install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &prev_segv);
    sigaction(SIGBUS, &sa, &prev_bus);
}

void conc__overflow_install(void) {
    pthread_once(&install_once, install);
}

static pthread_key_t alt_key;
static pthread_once_t alt_once = PTHREAD_ONCE_INIT;
static __thread bool alt_done;

static void alt_free(void *p) {
    stack_t off;
    memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, NULL);
    munmap(p, ALTSTACK_SIZE);
}
static void alt_key_init(void) {
    pthread_key_create(&alt_key, alt_free);
}

int conc__overflow_altstack(void) {
    if (alt_done) return 0;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= 16384) {
        alt_done = true; /* the thread has one (a sanitizer's, or the program's) */
        return 0;
    }
    pthread_once(&alt_once, alt_key_init);
    void *m = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return -ENOMEM;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = m;
    ss.ss_size = ALTSTACK_SIZE;
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(m, ALTSTACK_SIZE);
        return -ENOMEM;
    }
    pthread_setspecific(alt_key, m);
    alt_done = true;
    return 0;
}
