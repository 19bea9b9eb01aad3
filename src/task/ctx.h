/* The machine context switch under tasks: save the callee-saved registers and FP control words on
 * the current stack, store the stack pointer, load another, restore. That is all a cooperative
 * switch needs (the caller-saved registers are dead across a call by the ABI), which is why it
 * costs a few nanoseconds where swapcontext costs ~200 (a sigprocmask syscall each time).
 *
 * Hand-written for x86_64 and aarch64 (ctx_x86_64.S, ctx_aarch64.S, frames built by ctx_make.c);
 * elsewhere, or with the CMake option CONC_TASK_UCONTEXT, ucontext (ctx_ucontext.c). Nothing here
 * knows about tasks or sanitizers: fiber.c adds those. */
#ifndef CONC_TASK_CTX_H
#define CONC_TASK_CTX_H

#include <stddef.h>
#include "../internal/base.h"

#if !defined(CONC_TASK_UCONTEXT) && (defined(__x86_64__) || defined(__aarch64__))
#define CONC__CTX_ASM 1
/* The saved registers live on the context's own stack; the context is its stack pointer. */
typedef struct {
    void *sp;
} conc__ctx_t;
#else
#include <ucontext.h>
typedef struct {
    ucontext_t uc;
    void (*entry)(void *transfer, void *arg);
    void *arg;
} conc__ctx_t;
#endif

/* The function a new context starts in. transfer is the value passed to the conc__ctx_swap that
 * first switched to it. It must never return: it ends by switching away for good. */
typedef void (*conc__ctx_entry_fn)(void *transfer, void *arg);

/* Prepare *c to start entry(transfer, arg) on the stack [lo, lo + size) at the first switch to it.
 * The FP control words start as the calling thread's. */
CONC_HIDDEN void conc__ctx_make(conc__ctx_t *c, void *lo, size_t size, conc__ctx_entry_fn entry,
                                void *arg);

/* Save the running context in *from and resume *to; returns, when something switches back to
 * *from, the transfer value that switch passed. */
CONC_HIDDEN void *conc__ctx_swap(conc__ctx_t *from, conc__ctx_t *to, void *transfer);

#endif
