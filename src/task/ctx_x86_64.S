/* Context switch for x86_64 (System V ABI). See ctx.h.
 *
 * conc__ctx_swap(from = rdi, to = rsi, transfer = rdx) pushes the callee-saved registers rbp rbx
 * r12-r15 and the MXCSR + x87 control word (the ABI makes those "callee-saved" too: a task that
 * changes rounding must not change it for the others), stores rsp in *from, loads to->sp and pops
 * the same frame in reverse. Both stacks have the identical frame layout, so the CFI below stays
 * true across the stack change and a debugger can unwind through a suspended switch.
 *
 * A new context's frame (built by ctx_make.c) "returns" into conc__ctx_start with r12 = entry and
 * r13 = arg; rax carries the transfer value into entry's first argument. */
#if defined(__x86_64__) && !defined(CONC_TASK_UCONTEXT)

    .text
    .globl  conc__ctx_swap
    .hidden conc__ctx_swap
    .type   conc__ctx_swap, @function
    .p2align 4
conc__ctx_swap:
    .cfi_startproc
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbp, 0
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbx, 0
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r12, 0
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r13, 0
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r14, 0
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r15, 0
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw  4(%rsp)

    movq    %rsp, (%rdi)
    movq    (%rsi), %rsp

    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq    %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore r15
    popq    %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore r14
    popq    %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore r13
    popq    %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore r12
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbx
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbp
    movq    %rdx, %rax
    ret
    .cfi_endproc
    .size   conc__ctx_swap, .-conc__ctx_swap

/* First code of every new context; rsp is 16-byte aligned here, so the call below enters entry
 * with the alignment the ABI promises. The return address is marked undefined: unwinding stops
 * here instead of wandering into whatever lies above the stack. */
    .globl  conc__ctx_start
    .hidden conc__ctx_start
    .type   conc__ctx_start, @function
    .p2align 4
conc__ctx_start:
    .cfi_startproc
    .cfi_undefined rip
    movq    %rax, %rdi
    movq    %r13, %rsi
    callq   *%r12
    ud2
    .cfi_endproc
    .size   conc__ctx_start, .-conc__ctx_start

#endif

    .section .note.GNU-stack, "", @progbits
