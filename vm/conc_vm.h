/* conc_vm.h - a small bytecode VM that runs under conc's GIL: what an interpreter built on conc
 * looks like, and the CPU-bound job of `conc demo`.
 *
 * A program is a text file of functions in a stack-machine assembly (docs/demo.md, vm/examples):
 *
 *     ; countdown.s: count n down to 0 and print how far it got
 *     func main 0 1          ; name, arguments, extra locals (arguments are locals 0..)
 *         push 1000000
 *         store 0
 *     loop:
 *         load 0
 *         jz done
 *         load 0
 *         push 1
 *         sub
 *         store 0
 *         jmp loop
 *     done:
 *         load 0
 *         native print
 *         push 0
 *         ret
 *     end
 *
 * Values are 64-bit integers (arithmetic wraps). Instructions: push N, pop, dup, swap, over;
 * load I, store I; add sub mul div mod neg; eq ne lt le gt ge not; jmp L, jz L, jnz L; call F, ret;
 * native NAME (see vm/natives.c: print, clock, sleep, read, write, pipe, socketpair, close, spin,
 * roundtrips); spawn F (start F in a new conc thread, its arguments from the stack, push a handle),
 * join (pop a handle, wait for the thread, push what F returned).
 *
 * The loader checks everything it can before anything runs - names, operands, jump targets, and
 * the stack depth at every instruction (the same on every path, never below zero, the same shape
 * as the JVM's verifier) - so the interpreter needs no stack checks, and a malformed program gets
 * "FILE:LINE: message", never a crash. What only running can find (division by zero, recursion
 * too deep, a bad thread handle) is a runtime error with the same FILE:LINE prefix.
 *
 * Threads: every VM thread holds the GIL while it interprets and calls conc_gil_tick once per
 * instruction; the natives that block or compute (sleep, read, write, spin, roundtrips) and join
 * release it around their work with CONC_GIL_BEGIN/END_ALLOW_THREADS, as CPython's C code does. */
#ifndef CONC_VM_H
#define CONC_VM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "conc/gil.h"

typedef struct conc_vm_prog conc_vm_prog_t;

#define CONC_VM_ERRLEN 256 /* enough for any message the VM writes */

/* Assemble and verify src (len bytes; a NUL byte outside a comment is an error, not the end).
 * name is used in messages ("name:LINE: ..."). 0 and *out, or -EINVAL with the message in err (errlen bytes,
 * always NUL-terminated when errlen > 0), or -ENOMEM. */
int conc_vm_load(const char *name, const char *src, size_t len, conc_vm_prog_t **out, char *err,
                 size_t errlen);
/* Read and load a file: the same, plus "FILE: cannot read: ..." (-errno) when it cannot be read. */
int conc_vm_load_file(const char *path, conc_vm_prog_t **out, char *err, size_t errlen);
void conc_vm_free(conc_vm_prog_t *p);

/* The number of arguments function name takes, or -ENOENT. */
int conc_vm_arity(const conc_vm_prog_t *p, const char *name);

typedef struct {
    conc_gil_t *gil; /* shared by every thread running VM code; NULL: a private one for this run */
    FILE *out;       /* where `native print` writes; NULL: stdout */
} conc_vm_opts_t;

/* Run function fn(args) in the calling thread, taking the GIL for the run (the caller must not
 * hold it). Threads the program spawned and did not join are joined before it returns, as Python
 * joins non-daemon threads at exit. 0 with *result (may be NULL) set to what fn returned; -ENOENT
 * (no such function) or -EINVAL (wrong number of arguments, or a runtime error, in this thread or
 * in one it spawned) with the message in err. */
int conc_vm_run(const conc_vm_prog_t *p, const char *fn, const int64_t *args, size_t nargs,
                const conc_vm_opts_t *opts, int64_t *result, char *err, size_t errlen);

#endif
