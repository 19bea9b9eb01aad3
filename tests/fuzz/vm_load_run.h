/* The VM loader's fuzz driver, shared by the libFuzzer target (tests/fuzz/vm_load.c) and the
 * cmocka garbage test (tests/unit/vm_garbage.c), so CI feeds the loader garbage on every run.
 *
 * Input: any bytes, as the text of a program. The loader must either accept it (then every
 * function's verified stack fits the limit) or reject it with -EINVAL and one message that starts
 * with "fuzz.s:" and is a single line; anything else (another code, an empty or multi-line message,
 * a crash under the sanitizers) is a bug. */
#ifndef CONC_FUZZ_VM_LOAD_RUN_H
#define CONC_FUZZ_VM_LOAD_RUN_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "conc_vm.h"

/* 0 when the loader behaved, -1 on a bug. */
static int conc_fuzz_vm_load(const uint8_t *data, size_t size) {
    char err[CONC_VM_ERRLEN];
    conc_vm_prog_t *p = NULL;
    int r = conc_vm_load("fuzz.s", (const char *)data, size, &p, err, sizeof err);
    if (r == 0) {
        int ok = p != NULL && err[0] == 0;
        conc_vm_free(p);
        return ok ? 0 : -1;
    }
    if (p != NULL) return -1;
    if (r == -ENOMEM) return 0;
    if (r != -EINVAL) return -1;
    if (strncmp(err, "fuzz.s:", 7) != 0 || strchr(err, '\n') || strlen(err) >= sizeof err)
        return -1;
    return 0;
}

#endif
