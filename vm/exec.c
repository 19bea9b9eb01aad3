/* The interpreter loop: threaded dispatch (computed goto), one conc_gil_tick per instruction.
 *
 * Each handler ends in its own indirect jump to the next handler, so the branch predictor sees
 * one jump per opcode pair instead of one shared switch jump (CPython does the same with
 * USE_COMPUTED_GOTOS). The tick sits in that dispatch: one relaxed load and a never-taken branch
 * while nobody waits for the GIL, the holder's hand-over when somebody does.
 *
 * The loader's verifier proved every stack depth, so no handler checks for underflow or overflow
 * of the operand stack; what is checked here is only what depends on values: division by zero,
 * the call depth and the space left for a callee's frame.
 *
 * Layout: one value stack per thread; a frame's locals (arguments first) sit below its operands,
 * so a call leaves its arguments where they are and they become the callee's first locals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vm_int.h"

typedef struct {
    const vm_insn_t *ret;
    int64_t *base;
} frame_t;

static int rt_error(vm_thread_t *t, const vm_insn_t *ip, const char *msg) {
    if (!t->failed) {
        char text[CONC_VM_ERRLEN];
        snprintf(text, sizeof text, "%s", msg);
        snprintf(t->err, sizeof t->err, "%s:%u: %s", t->run->prog->name, ip->line, text);
    }
    t->failed = true;
    return -1;
}

int vm_exec(vm_thread_t *t) {
    const conc_vm_prog_t *p = t->run->prog;
    conc_gil_t *gil = t->run->gil;
    const vm_func_t *f = &p->funcs[t->fn];
    int64_t *stack = malloc(VM_STACK * sizeof *stack);
    frame_t *frames = malloc(VM_FRAMES * sizeof *frames);
    if (!stack || !frames) {
        free(stack);
        free(frames);
        snprintf(t->err, sizeof t->err, "%s: out of memory for a thread's stack", p->name);
        t->failed = true;
        return -1;
    }
    int64_t *const limit = stack + VM_STACK;
    memcpy(stack, t->args, f->nargs * sizeof *stack);
    memset(stack + f->nargs, 0, (f->nlocals - f->nargs) * sizeof *stack);
    int64_t *base = stack, *sp = stack + f->nlocals;
    unsigned nframes = 0;
    const vm_insn_t *code = p->code, *ip = code + f->entry;
    int rc = 0;
    int64_t a, b, out[2];

#define VM_LABEL(op, name, arg, pops, pushes) [OP_##op] = &&L_##op,
    static const void *const labels[OP__COUNT] = {VM_OPS(VM_LABEL)};
#undef VM_LABEL
#define DISPATCH()                                                                                 \
    do {                                                                                           \
        conc_gil_tick(gil);                                                                        \
        goto *labels[ip->op];                                                                      \
    } while (0)
#define NEXT()                                                                                     \
    do {                                                                                           \
        ip++;                                                                                      \
        DISPATCH();                                                                                \
    } while (0)
#define BINARY(expr)                                                                               \
    do {                                                                                           \
        a = sp[-2], b = sp[-1];                                                                    \
        sp[-2] = (expr);                                                                           \
        sp--;                                                                                      \
        NEXT();                                                                                    \
    } while (0)
#define U(x) ((uint64_t)(x))

    DISPATCH();

L_NOP:
    NEXT();
L_PUSH:
    *sp++ = ip->arg;
    NEXT();
L_POP:
    sp--;
    NEXT();
L_DUP:
    sp[0] = sp[-1];
    sp++;
    NEXT();
L_SWAP:
    a = sp[-1];
    sp[-1] = sp[-2];
    sp[-2] = a;
    NEXT();
L_OVER:
    sp[0] = sp[-2];
    sp++;
    NEXT();
L_LOAD:
    *sp++ = base[ip->arg];
    NEXT();
L_STORE:
    base[ip->arg] = *--sp;
    NEXT();
L_ADD:
    BINARY((int64_t)(U(a) + U(b)));
L_SUB:
    BINARY((int64_t)(U(a) - U(b)));
L_MUL:
    BINARY((int64_t)(U(a) * U(b)));
L_DIV:
    if (sp[-1] == 0) goto div_zero;
    BINARY(b == -1 ? (int64_t)(0 - U(a)) : a / b);
L_MOD:
    if (sp[-1] == 0) goto div_zero;
    BINARY(b == -1 ? 0 : a % b);
L_NEG:
    sp[-1] = (int64_t)(0 - U(sp[-1]));
    NEXT();
L_EQ:
    BINARY(a == b);
L_NE:
    BINARY(a != b);
L_LT:
    BINARY(a < b);
L_LE:
    BINARY(a <= b);
L_GT:
    BINARY(a > b);
L_GE:
    BINARY(a >= b);
L_NOT:
    sp[-1] = !sp[-1];
    NEXT();
L_JMP:
    ip = code + ip->arg;
    DISPATCH();
L_JZ:
    ip = *--sp == 0 ? code + ip->arg : ip + 1;
    DISPATCH();
L_JNZ:
    ip = *--sp != 0 ? code + ip->arg : ip + 1;
    DISPATCH();
L_CALL : {
    const vm_func_t *g = &p->funcs[ip->arg];
    int64_t *nb = sp - g->nargs;
    if (nframes == VM_FRAMES) {
        rc = rt_error(t, ip, "recursion too deep");
        goto done;
    }
    if (limit - nb < (ptrdiff_t)(g->nlocals + g->max_stack)) {
        rc = rt_error(t, ip, "stack overflow");
        goto done;
    }
    frames[nframes++] = (frame_t){ip + 1, base};
    memset(nb + g->nargs, 0, (g->nlocals - g->nargs) * sizeof *nb);
    base = nb;
    sp = nb + g->nlocals;
    ip = code + g->entry;
    DISPATCH();
}
L_RET:
    a = sp[-1];
    if (nframes == 0) {
        t->result = a;
        goto done;
    }
    nframes--;
    sp = base;
    *sp++ = a;
    base = frames[nframes].base;
    ip = frames[nframes].ret;
    DISPATCH();
L_NATIVE : {
    const vm_native_t *n = &vm_natives[ip->arg];
    sp -= n->nargs;
    if (n->fn(t, sp, out) != 0) {
        rc = rt_error(t, ip, t->err);
        goto done;
    }
    for (int i = 0; i < n->nret; i++) *sp++ = out[i];
    NEXT();
}
L_SPAWN:
    sp -= p->funcs[ip->arg].nargs;
    if (vm_spawn(t, (uint32_t)ip->arg, sp, &a) != 0) {
        rc = rt_error(t, ip, t->err);
        goto done;
    }
    *sp++ = a;
    NEXT();
L_JOIN:
    if (vm_join(t, sp[-1], &sp[-1]) != 0) {
        rc = rt_error(t, ip, t->err);
        goto done;
    }
    NEXT();

div_zero:
    rc = rt_error(t, ip, "division by zero");
done:
    free(stack);
    free(frames);
    return rc;
#undef DISPATCH
#undef NEXT
#undef BINARY
#undef U
}
