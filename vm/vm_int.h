/* The VM's insides shared by its files: the instruction set, a loaded program, a running thread.
 *
 * An instruction is 16 bytes: its operand (a value, a local's index, a jump target, a function or
 * native index), its opcode, and the source line it came from, so a runtime error can name the
 * line without a side table. Programs are immutable once loaded: threads share them freely. */
#ifndef CONC_VM_INT_H
#define CONC_VM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "conc_vm.h"
#include "conc/thread.h"

#define VM_OPS(X)                                                                                  \
    X(NOP, "nop", ARG_NONE, 0, 0)                                                                  \
    X(PUSH, "push", ARG_INT, 0, 1)                                                                 \
    X(POP, "pop", ARG_NONE, 1, 0)                                                                  \
    X(DUP, "dup", ARG_NONE, 1, 2)                                                                  \
    X(SWAP, "swap", ARG_NONE, 2, 2)                                                                \
    X(OVER, "over", ARG_NONE, 2, 3)                                                                \
    X(LOAD, "load", ARG_LOCAL, 0, 1)                                                               \
    X(STORE, "store", ARG_LOCAL, 1, 0)                                                             \
    X(ADD, "add", ARG_NONE, 2, 1)                                                                  \
    X(SUB, "sub", ARG_NONE, 2, 1)                                                                  \
    X(MUL, "mul", ARG_NONE, 2, 1)                                                                  \
    X(DIV, "div", ARG_NONE, 2, 1)                                                                  \
    X(MOD, "mod", ARG_NONE, 2, 1)                                                                  \
    X(NEG, "neg", ARG_NONE, 1, 1)                                                                  \
    X(EQ, "eq", ARG_NONE, 2, 1)                                                                    \
    X(NE, "ne", ARG_NONE, 2, 1)                                                                    \
    X(LT, "lt", ARG_NONE, 2, 1)                                                                    \
    X(LE, "le", ARG_NONE, 2, 1)                                                                    \
    X(GT, "gt", ARG_NONE, 2, 1)                                                                    \
    X(GE, "ge", ARG_NONE, 2, 1)                                                                    \
    X(NOT, "not", ARG_NONE, 1, 1)                                                                  \
    X(JMP, "jmp", ARG_LABEL, 0, 0)                                                                 \
    X(JZ, "jz", ARG_LABEL, 1, 0)                                                                   \
    X(JNZ, "jnz", ARG_LABEL, 1, 0)                                                                 \
    X(CALL, "call", ARG_FUNC, -1, 1)                                                               \
    X(RET, "ret", ARG_NONE, 1, 0)                                                                  \
    X(NATIVE, "native", ARG_NATIVE, -1, -1)                                                        \
    X(SPAWN, "spawn", ARG_FUNC, -1, 1)                                                             \
    X(JOIN, "join", ARG_NONE, 1, 1)

enum { ARG_NONE, ARG_INT, ARG_LOCAL, ARG_LABEL, ARG_FUNC, ARG_NATIVE };

#define VM_OP_ENUM(op, name, arg, pops, pushes) OP_##op,
enum { VM_OPS(VM_OP_ENUM) OP__COUNT };
#undef VM_OP_ENUM

typedef struct {
    const char *name;
    int arg;
    int pops, pushes; /* -1: depends on the operand (a function's arity, a native's signature) */
} vm_opinfo_t;
extern const vm_opinfo_t vm_opinfo[OP__COUNT];

typedef struct {
    int64_t arg;
    uint32_t op;
    uint32_t line;
} vm_insn_t;

typedef struct {
    char name[64];
    uint32_t nargs, nlocals; /* nlocals: all local slots, the arguments included */
    uint32_t entry, end;     /* its instructions: [entry, end) */
    uint32_t max_stack;      /* the deepest its operand stack gets (the verifier works it out) */
    uint32_t line;
} vm_func_t;

struct conc_vm_prog {
    char *name;
    vm_insn_t *code;
    uint32_t ncode;
    vm_func_t *funcs;
    uint32_t nfuncs;
};

#define VM_MAX_CODE   (1u << 20) /* instructions in a program */
#define VM_MAX_FUNCS  4096
#define VM_MAX_LOCALS 256
#define VM_MAX_STACK  1024  /* operand stack of one function */
#define VM_STACK      65536 /* values in one thread's stack: locals and operands of every frame */
#define VM_FRAMES     4096  /* call depth */

typedef struct vm_run vm_run_t;

/* One thread of VM code: its stack, and what it reports. */
typedef struct vm_thread {
    vm_run_t *run;
    uint32_t fn;
    int64_t args[VM_MAX_LOCALS];
    int64_t result;
    bool failed;
    char err[CONC_VM_ERRLEN];
    conc_thread_t *thread; /* spawned threads only */
    bool joined;
} vm_thread_t;

/* One conc_vm_run: shared by the threads it spawns. Fields after the first three change only
 * under the GIL, which every VM thread holds while it interprets. */
struct vm_run {
    const conc_vm_prog_t *prog;
    conc_gil_t *gil;
    FILE *out;
    vm_thread_t **threads; /* spawned; a handle is the index + 1 */
    size_t nthreads, capthreads;
    char err[CONC_VM_ERRLEN]; /* the first runtime error of a spawned thread */
    bool failed;
};

/* The natives; each returns 0 or -1 with a message in t->err (the caller adds FILE:LINE). */
typedef struct {
    const char *name;
    int nargs, nret;
    int (*fn)(vm_thread_t *t, const int64_t *args, int64_t *ret);
} vm_native_t;
extern const vm_native_t vm_natives[];
extern const size_t vm_nnatives;

/* Interpret t->fn(t->args) in this thread, which holds the GIL: 0, or -1 with t->err set. */
int vm_exec(vm_thread_t *t);
/* spawn / join, called by the interpreter under the GIL: 0, or -1 with t->err set. */
int vm_spawn(vm_thread_t *t, uint32_t fn, const int64_t *args, int64_t *handle);
int vm_join(vm_thread_t *t, int64_t handle, int64_t *result);
/* Join every thread still running: the end of a run. The caller holds the GIL. */
void vm_join_all(vm_run_t *run);

#endif
