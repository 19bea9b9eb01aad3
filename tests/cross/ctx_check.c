/* A standalone check of the context switch, built outside CMake by tests/unit/task_cross.c: for
 * aarch64 with the cross compiler and run under qemu-user, and natively with the ucontext fallback,
 * so every switch implementation passes the same checks. Exit status 0 = all good; otherwise the
 * number of the failed check. Prints one line per check. */
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "task/ctx.h"

static conc__ctx_t main_ctx, co_ctx;
static int co_round_ok = 1, co_aligned = 0;

static __attribute__((noinline)) int aligned_here(void) {
    _Alignas(16) volatile char probe[16];
    probe[0] = 1;
    return ((uintptr_t)probe & 15) == 0;
}

/* Many values live across each switch: the compiler keeps them in callee-saved registers
 * (x19-x28 and d8-d15 on aarch64, rbx/rbp/r12-r15 on x86_64), so a switch that loses one shows. */
static __attribute__((noinline)) uint64_t mix(int n, int do_switch) {
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, g = 6, h = 7, k = 8, m = 9, q = 10;
    double x = 1.5, y = 2.25, z = 3.125, w = 4.0625, u = 0.5, v = 0.25, s = 0.125, t = 8.5;
    for (int i = 0; i < n; i++) {
        a = a * 31 + b;
        b ^= c << 3;
        c += d * 7;
        d = d * 13 + e;
        e ^= g >> 1;
        g += h * 3;
        h = h * 5 + k;
        k ^= m + a;
        m = m * 3 + q;
        q ^= a >> 7;
        x = x * 1.0001 + y;
        y = y * 0.9999 + z;
        z = z + x * 1e-9;
        w = w * 0.5 + u;
        u = u + v * 0.25;
        v = v * 1.5 - s;
        s = s + t * 1e-3;
        t = t * 0.999 + x * 1e-6;
        if (do_switch)
            conc__ctx_swap(&main_ctx, &co_ctx, NULL);
        else
            __asm__ volatile("" ::: "memory");
    }
    double fs[8] = {x, y, z, w, u, v, s, t};
    uint64_t bits[8];
    memcpy(bits, fs, sizeof bits);
    uint64_t r = a ^ b ^ c ^ d ^ e ^ g ^ h ^ k ^ m ^ q;
    for (int i = 0; i < 8; i++) r = r * 1000003 ^ bits[i];
    return r;
}

/* Overwrite every callee-saved register the switch must restore: the compiler saves and restores
 * them around this asm for co_entry's own use, but at the next switch they hold these values, so
 * a switch that fails to restore main's copy hands main garbage. */
static inline void trash_callee_saved(void) {
#if defined(__aarch64__)
    __asm__ volatile("mov x19, #0x1919\n mov x20, #0x2020\n mov x21, #0x2121\n mov x22, #0x2222\n"
                     "mov x23, #0x2323\n mov x24, #0x2424\n mov x25, #0x2525\n mov x26, #0x2626\n"
                     "mov x27, #0x2727\n mov x28, #0x2828\n"
                     "fmov d8, x19\n fmov d9, x20\n fmov d10, x21\n fmov d11, x22\n"
                     "fmov d12, x23\n fmov d13, x24\n fmov d14, x25\n fmov d15, x26\n" ::
                         : "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
                           "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15");
#elif defined(__x86_64__)
    __asm__ volatile("mov $0x1b1b, %%rbx\n mov $0x1212, %%r12\n mov $0x1313, %%r13\n"
                     "mov $0x1414, %%r14\n mov $0x1515, %%r15\n" ::
                         : "rbx", "r12", "r13", "r14", "r15");
#endif
}

static volatile double three = 3.0;
static double third(void) {
    return 1.0 / three;
}

static void co_entry(void *transfer, void *arg) {
    (void)arg;
    co_aligned = aligned_here();
    fesetround(FE_UPWARD);
    intptr_t v = (intptr_t)transfer;
    /* this side keeps its own values live across its switches, in the same callee-saved
     * registers main uses, so each side's switch must restore the other's */
    uint64_t a = 11, b = 12, c = 13, d = 14, e = 15, g = 16, h = 17, k = 18;
    double x = 9.5, y = 8.25, z = 7.125, w = 6.0625, u = 5.5, p = 4.25, r = 3.75, q = 2.5;
    for (;;) {
        a += b;
        b ^= c;
        c += d;
        d ^= e;
        e += g;
        g ^= h;
        h += k;
        k ^= a;
        x += y;
        y *= 0.5;
        z += w;
        w *= 0.75;
        u += p;
        p *= 0.875;
        r += q;
        q *= 0.9;
        trash_callee_saved();
        v = (intptr_t)conc__ctx_swap(&co_ctx, &main_ctx, (void *)(v + 1));
        if (fegetround() != FE_UPWARD) co_round_ok = 0;
        if ((a ^ b ^ c ^ d ^ e ^ g ^ h ^ k) == 42 && x + y + z + w + u + p + r + q == 42.0)
            printf("unlikely\n");
    }
}

int main(void) {
    size_t size = 256 * 1024;
    void *stack = malloc(size);
    volatile double third_nearest = third();
    conc__ctx_make(&co_ctx, stack, size, co_entry, NULL);
    /* 1: values travel both ways */
    for (intptr_t i = 0; i < 1000; i++) {
        intptr_t got = (intptr_t)conc__ctx_swap(&main_ctx, &co_ctx, (void *)i);
        if (got != i + 1) {
            printf("FAIL 1 transfer %ld -> %ld\n", (long)i, (long)got);
            return 1;
        }
    }
    printf("ok 1 transfer values\n");
    /* 2: the new context starts with an ABI-aligned stack */
    if (!co_aligned) {
        printf("FAIL 2 alignment\n");
        return 2;
    }
    printf("ok 2 stack alignment\n");
    /* 3: FP control (rounding mode) is per context */
    /* fegetround reads the x87 word on x86_64; the division checks MXCSR (FPCR on aarch64) */
    if (fegetround() != FE_TONEAREST || !co_round_ok || third() != third_nearest) {
        printf("FAIL 3 rounding mode leaked\n");
        return 3;
    }
    printf("ok 3 rounding mode per context\n");
    /* 4: callee-saved integer and FP registers survive switches */
    uint64_t want = mix(2000, 0), got = mix(2000, 1);
    if (want != got) {
        printf("FAIL 4 callee-saved registers\n");
        return 4;
    }
    printf("ok 4 callee-saved registers\n");
    free(stack);
    return 0;
}
