/* Context switch for aarch64 (AAPCS64). See ctx.h.
 *
 * conc__ctx_swap(from = x0, to = x1, transfer = x2) stores the callee-saved x19-x28, the frame
 * pointer x29, the link register x30, the low halves d8-d15 of v8-v15 (the only callee-saved FP
 * state) and FPCR in a 176-byte frame on the current stack, saves sp in *from, loads to->sp, and
 * restores the same frame; `ret` then jumps to the x30 of the resumed context.
 *
 * A new context's frame (built by ctx_make.c) has x30 = conc__ctx_start, x19 = entry, x20 = arg;
 * x0 carries the transfer value, already in place as entry's first argument. */
#if defined(__aarch64__) && !defined(CONC_TASK_UCONTEXT)

    .text
    .globl  conc__ctx_swap
    .hidden conc__ctx_swap
    .type   conc__ctx_swap, %function
    .p2align 4
conc__ctx_swap:
    .cfi_startproc
    sub     sp, sp, #176
    .cfi_adjust_cfa_offset 176
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    .cfi_rel_offset x29, 80
    .cfi_rel_offset x30, 88
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mrs     x9, fpcr
    str     x9, [sp, #160]

    mov     x9, sp
    str     x9, [x0]
    ldr     x9, [x1]
    mov     sp, x9

    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    ldr     x9, [sp, #160]
    msr     fpcr, x9
    add     sp, sp, #176
    .cfi_adjust_cfa_offset -176
    mov     x0, x2
    ret
    .cfi_endproc
    .size   conc__ctx_swap, .-conc__ctx_swap

/* First code of every new context; sp is 16-byte aligned. x30 is marked undefined so unwinding
 * stops here. */
    .globl  conc__ctx_start
    .hidden conc__ctx_start
    .type   conc__ctx_start, %function
    .p2align 4
conc__ctx_start:
    .cfi_startproc
    .cfi_undefined x30
    mov     x1, x20
    blr     x19
    brk     #0
    .cfi_endproc
    .size   conc__ctx_start, .-conc__ctx_start

#endif

    .section .note.GNU-stack, "", %progbits
