/* A system call that a SIGINT cannot slip past: the main thread blocks directly in recv, and a
 * SIGINT still ends the call, however close to it the signal lands (musl's cancellation points are
 * built the same way: __syscall_cp_asm and __cp_begin/__cp_end/__cp_cancel).
 *
 * Why not check the count, then block: a SIGINT between the check and the syscall would leave the
 * thread asleep. Why not ppoll with the eventfd (base/fdwait.c): that is one syscall more per
 * message than a blocking recv, about a microsecond each on these VMs, a tenth of a Pipe round trip.
 *
 * How: the stub checks conc__intr_pending and makes the syscall inside a window of instructions
 * [conc__intr_begin, conc__intr_end). The SIGINT handler (signal/interrupt.c) counts the signal
 * first, then looks at the interrupted instruction pointer: if it is inside the window, the check
 * may already have passed, so the handler moves it to conc__intr_cancel, which returns -EINTR
 * without making (or re-making) the call. A signal before the window is seen by the check.
 *
 * Why conc__intr_end lies AFTER the syscall instruction, not on it: a signal that arrives while
 * recv sleeps interrupts the kernel, not an instruction of ours. With SA_RESTART (CONC_SA_FLAGS in
 * non-TSan builds) the kernel rewinds the saved instruction pointer to the syscall instruction
 * before it runs the handler, so that the call restarts on return - which puts it inside the window,
 * and the handler cancels the restart. Without SA_RESTART the syscall itself returns -EINTR and the
 * saved pointer is conc__intr_end: nothing to redirect. And a signal that lands at conc__intr_end
 * after a recv that succeeded must NOT be redirected - the bytes read would be lost - so the end is
 * exclusive; the count stays pending for the next blocking call.
 *
 * What it does not cover: a SIGINT that lands inside ANOTHER handler which itself interrupted the
 * window (the saved pointer is then in that handler). conc's own handlers keep SIGINT blocked
 * while they run (signal/dispatch.c, net/signal.c), so the SIGINT is delivered after they return,
 * inside the window again; a foreign handler installed without SIGINT in its sa_mask can still
 * delay one interrupt until the call returns.
 *
 * The stub touches only registers the ABI lets a call clobber (rcx and r11 by the syscall itself)
 * and pushes nothing, so the window and conc__intr_cancel share one stack frame and cancel can just
 * return. conc__intr_pending is hidden, so the RIP-relative load needs no GOT in PIC or PIE code.
 * Not under ThreadSanitizer: it runs our handler only once the thread leaves the syscall, too late
 * to redirect anything (see internal/base.h); fdwait.c's ppoll path serves there. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>
#include "../internal/base.h"

#if CONC__HAVE_INTR_SYSCALL

#ifdef __CET__
#define ENDBR "endbr64\n"
#else
#define ENDBR ""
#endif
#define STR_(x) #x
#define STR(x)  STR_(x)

/* long conc__intr_syscall(long nr, long a1, long a2, long a3, long a4, long a5): the System V
 * arguments rdi rsi rdx rcx r8 r9 move to the syscall's rax rdi rsi rdx r10 r8 (r9 = 0). */
__asm__(".text\n"
        ".globl conc__intr_syscall\n"
        ".hidden conc__intr_syscall\n"
        ".type conc__intr_syscall, @function\n"
        ".globl conc__intr_begin\n"
        ".hidden conc__intr_begin\n"
        ".globl conc__intr_end\n"
        ".hidden conc__intr_end\n"
        ".globl conc__intr_cancel\n"
        ".hidden conc__intr_cancel\n"
        ".hidden conc__intr_pending\n"
        ".p2align 4\n"
        "conc__intr_syscall:\n"
        ".cfi_startproc\n" ENDBR "movq %rdi, %rax\n"
        "movq %rsi, %rdi\n"
        "movq %rdx, %rsi\n"
        "movq %rcx, %rdx\n"
        "movq %r8, %r10\n"
        "movq %r9, %r8\n"
        "xorl %r9d, %r9d\n"
        "conc__intr_begin:\n"
        "cmpl $0, conc__intr_pending(%rip)\n"
        "jne conc__intr_cancel\n"
        "syscall\n"
        "conc__intr_end:\n"
        "ret\n"
        "conc__intr_cancel:\n"
        "movq $-" STR(EINTR) ", %rax\n"
                             "ret\n"
                             ".cfi_endproc\n"
                             ".size conc__intr_syscall, .-conc__intr_syscall\n");

void conc__intr_redirect(void *ucontext) {
    ucontext_t *uc = ucontext;
    uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (ip >= (uintptr_t)conc__intr_begin && ip < (uintptr_t)conc__intr_end)
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)conc__intr_cancel;
}
#endif
