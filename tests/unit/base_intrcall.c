/* The SIGINT-cancellable syscall (base/intr_syscall.c) on its own: the stub's pending check, and the
 * handler's redirect tried on hand-made contexts, since a real signal cannot be aimed at one
 * instruction. The redirect must cover the syscall instruction itself (where the kernel leaves a
 * restarted call) and must not touch conc__intr_end (a call that completed). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include "internal/base.h"
#include "test.h"

#if CONC__HAVE_INTR_SYSCALL
static uintptr_t redirected(uintptr_t ip) {
    ucontext_t uc;
    memset(&uc, 0, sizeof uc);
    uc.uc_mcontext.gregs[REG_RIP] = (greg_t)ip;
    uc.uc_mcontext.gregs[REG_RAX] = 12345;
    conc__intr_redirect(&uc);
    assert_int_equal(uc.uc_mcontext.gregs[REG_RAX], 12345); /* cancel itself sets the result */
    return (uintptr_t)uc.uc_mcontext.gregs[REG_RIP];
}
#endif

static void redirect_window_only(void **state) {
    (void)state;
#if CONC__HAVE_INTR_SYSCALL
    uintptr_t begin = (uintptr_t)conc__intr_begin, end = (uintptr_t)conc__intr_end,
              cancel = (uintptr_t)conc__intr_cancel;
    assert_true(begin < end);
    /* the two bytes before the end are the syscall instruction (0f 05) */
    assert_memory_equal(conc__intr_end - 2, "\x0f\x05", 2);
    for (uintptr_t ip = begin; ip < end; ip++) assert_true(redirected(ip) == cancel);
    assert_true(redirected(end) == end);
    assert_true(redirected(begin - 1) == begin - 1);
    assert_true(redirected(cancel) == cancel);
    assert_true(redirected((uintptr_t)&redirect_window_only) == (uintptr_t)&redirect_window_only);
#else
    fprintf(stderr, "no SIGINT-cancellable syscall in this build (not x86_64, or TSan)\n");
    skip();
#endif
}

static void stub_checks_pending(void **state) {
    (void)state;
#if CONC__HAVE_INTR_SYSCALL
    assert_int_equal(conc__intr_syscall(SYS_getpid, 0, 0, 0, 0, 0), getpid());
    assert_int_equal(conc__intr_syscall(SYS_read, -1, 0, 0, 0, 0), -EBADF);
    __atomic_store_n(&conc__intr_pending, 1, __ATOMIC_RELEASE);
    /* cancelled before the call: a write that would have happened did not */
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(conc__intr_syscall(SYS_write, p[1], (long)"x", 1, 0, 0), -EINTR);
    assert_int_equal(__atomic_load_n(&conc__intr_pending, __ATOMIC_ACQUIRE), 1); /* not consumed */
    __atomic_store_n(&conc__intr_pending, 0, __ATOMIC_RELEASE);
    assert_int_equal(conc__intr_syscall(SYS_write, p[1], (long)"y", 1, 0, 0), 1);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    close(p[0]);
    close(p[1]);
#else
    fprintf(stderr, "no SIGINT-cancellable syscall in this build (not x86_64, or TSan)\n");
    skip();
#endif
}

CONC_TEST_MAIN(cmocka_unit_test(redirect_window_only), cmocka_unit_test(stub_checks_pending))
