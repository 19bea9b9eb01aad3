/* Builds the first frame of a new context for the assembly switches (ctx_x86_64.S,
 * ctx_aarch64.S): exactly the frame conc__ctx_swap pops, with the "return address" pointing at
 * conc__ctx_start and the entry function and its argument in two callee-saved slots. Kept in C so
 * the layout is written once per architecture next to a comment, not spread over assembly. */
#include <stdint.h>
#include "ctx.h"

#ifdef CONC__CTX_ASM
CONC_HIDDEN void conc__ctx_start(void);

#if defined(__x86_64__)
/* Popped from low to high: MXCSR and x87 control word (8 bytes), r15, r14, r13, r12, rbx, rbp, then
 * the return address. The frame sits 16 bytes below the aligned top so that after `ret` rsp is
 * 16-byte aligned, as conc__ctx_start's `call` needs. */
void conc__ctx_make(conc__ctx_t *c, void *lo, size_t size, conc__ctx_entry_fn entry, void *arg) {
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 80);
    uint32_t mxcsr;
    uint16_t fcw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    sp[0] = (uint64_t)mxcsr | (uint64_t)fcw << 32;
    sp[1] = 0;                          /* r15 */
    sp[2] = 0;                          /* r14 */
    sp[3] = (uint64_t)(uintptr_t)arg;   /* r13 */
    sp[4] = (uint64_t)(uintptr_t)entry; /* r12 */
    sp[5] = 0;                          /* rbx */
    sp[6] = 0;                          /* rbp: ends frame-pointer walks */
    sp[7] = (uint64_t)(uintptr_t)conc__ctx_start;
    sp[8] = 0;
    sp[9] = 0;
    c->sp = sp;
}
#elif defined(__aarch64__)
/* 176 bytes at the aligned top: x19..x28, x29, x30, d8..d15, FPCR; after the final
 * `add sp, sp, #176` sp is the (16-byte aligned) top. */
void conc__ctx_make(conc__ctx_t *c, void *lo, size_t size, conc__ctx_entry_fn entry, void *arg) {
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 176);
    for (int i = 0; i < 22; i++) sp[i] = 0;
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    sp[0] = (uint64_t)(uintptr_t)entry;            /* x19 */
    sp[1] = (uint64_t)(uintptr_t)arg;              /* x20 */
    sp[10] = 0;                                    /* x29: ends frame-pointer walks */
    sp[11] = (uint64_t)(uintptr_t)conc__ctx_start; /* x30 */
    sp[20] = fpcr;
    c->sp = sp;
}
#endif
#endif
