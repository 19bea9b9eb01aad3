/* The portable fallback switch: ucontext (makecontext/swapcontext). Used on architectures without
 * a hand-written switch, or everywhere with -DCONC_TASK_UCONTEXT=ON (to compare, or to rule the
 * assembly out when chasing a bug). About 20x slower: glibc's swapcontext saves and restores the
 * signal mask with a syscall on every switch. makecontext passes only int arguments, so the context
 * pointer travels as two 32-bit halves, and the transfer value through a thread-local. */
#include <stdint.h>
#include "ctx.h"

#ifndef CONC__CTX_ASM
static __thread void *transfer_slot;

static void ctx_start(unsigned hi, unsigned lo) {
    conc__ctx_t *c = (conc__ctx_t *)(((uintptr_t)hi << 16 << 16) | (uintptr_t)lo);
    c->entry(transfer_slot, c->arg);
    __builtin_trap(); /* entry never returns */
}

void conc__ctx_make(conc__ctx_t *c, void *lo, size_t size, conc__ctx_entry_fn entry, void *arg) {
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    c->entry = entry;
    c->arg = arg;
    uintptr_t p = (uintptr_t)c;
    makecontext(&c->uc, (void (*)(void))ctx_start, 2, (unsigned)(p >> 16 >> 16), (unsigned)p);
}

void *conc__ctx_swap(conc__ctx_t *from, conc__ctx_t *to, void *transfer) {
    transfer_slot = transfer;
    swapcontext(&from->uc, &to->uc);
    return transfer_slot;
}
#endif
