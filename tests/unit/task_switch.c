/* The context switch and fibers: values round-trip, registers and FP control state are per
 * context, the ABI stack alignment holds, many fibers interleave, stacks are recycled. */
#include <fenv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "task/fiber.h"
#include "task/sanitizer.h"
#include "test.h"

/* ---- raw ctx: only without sanitizers (they need fiber.c's annotations) ---- */
static conc__ctx_t main_ctx, co_ctx;
static long co_sum;

static __attribute__((unused)) void co_entry(void *transfer, void *arg) {
    long *limit = arg;
    long v = (long)(intptr_t)transfer;
    while (v < *limit) {
        co_sum += v;
        v = (long)(intptr_t)conc__ctx_swap(&co_ctx, &main_ctx, (void *)(intptr_t)(v + 1));
    }
    conc__ctx_swap(&co_ctx, &main_ctx, (void *)(intptr_t)-1);
    abort();
}

static void raw_swap_passes_values_both_ways(void **state) {
    (void)state;
#if defined(CONC__ASAN) || defined(CONC__TSAN)
    skip();
#else
    size_t size = 64 * 1024;
    void *stack = malloc(size);
    long limit = 1000;
    conc__ctx_make(&co_ctx, stack, size, co_entry, &limit);
    long v = 0;
    for (;;) {
        long got = (long)(intptr_t)conc__ctx_swap(&main_ctx, &co_ctx, (void *)(intptr_t)v);
        if (got < 0) break;
        assert_int_equal(got, v + 1);
        v = got + 1; /* main adds one too */
    }
    long expect = 0;
    for (long i = 0; i < limit; i += 2) expect += i;
    assert_int_equal(co_sum, expect);
    free(stack);
#endif
}

/* ---- fibers ---- */
struct pair {
    struct conc__fiber *self, *back;
    long rounds, seen;
    int round_mode;
    bool rounding_ok, aligned;
};

static __attribute__((noinline)) bool check_alignment(void) {
    _Alignas(16) volatile char probe[16];
    probe[0] = 1;
    return ((uintptr_t)probe & 15) == 0;
}

static void ping_entry(void *arg) {
    struct pair *p = arg;
    p->aligned = check_alignment();
    fesetround(p->round_mode);
    p->rounding_ok = true;
    for (long i = 0; i < p->rounds; i++) {
        p->seen++;
        conc__fiber_switch(p->self, p->back);
        if (fegetround() != p->round_mode) p->rounding_ok = false;
    }
    conc__fiber_exit(p->self, p->back);
}

static void fibers_ping_pong_and_keep_their_own_rounding_mode(void **state) {
    (void)state;
    struct conc__fiber *me = conc__fiber_thread();
    assert_non_null(me);
    struct conc__fiber f;
    struct pair p = {&f, me, 10000, 0, FE_UPWARD, false, false};
    assert_int_equal(conc__fiber_init(&f, 0, "ping", ping_entry, &p), 0);
    assert_int_equal(fegetround(), FE_TONEAREST);
    for (long i = 0; i <= p.rounds; i++) {
        conc__fiber_switch(me, &f);
        /* the fiber set FE_UPWARD: that is its own state, not ours */
        assert_int_equal(fegetround(), FE_TONEAREST);
        if (i < p.rounds) assert_int_equal(p.seen, i + 1);
    }
    assert_true(p.rounding_ok);
    assert_true(p.aligned);
    conc__fiber_destroy(&f);
}

/* Callee-saved registers: a computation with many live values across switches comes out right
 * (the compiler keeps them in rbx/r12-r15 or x19-x28 across the call). */
static void busy_entry(void *arg) {
    struct pair *p = arg;
    for (long i = 0; i < p->rounds; i++) {
        conc__fiber_switch(p->self, p->back);
    }
    conc__fiber_exit(p->self, p->back);
}

static __attribute__((noinline)) uint64_t mix(struct conc__fiber *me, struct conc__fiber *f,
                                              int n) {
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, g = 6, h = 7, k = 8;
    double x = 1.5, y = 2.25, z = 3.125;
    for (int i = 0; i < n; i++) {
        a = a * 31 + b;
        b ^= c << 3;
        c += d * 7;
        d = d * 13 + e;
        e ^= g >> 1;
        g += h * 3;
        h = h * 5 + k;
        k ^= a;
        x = x * 1.0001 + y;
        y = y * 0.9999 + z;
        z = z + x * 1e-9;
        conc__fiber_switch(me, f);
    }
    return a ^ b ^ c ^ d ^ e ^ g ^ h ^ k ^ (uint64_t)(x + y + z);
}

static __attribute__((noinline)) uint64_t mix_plain(int n) {
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, g = 6, h = 7, k = 8;
    double x = 1.5, y = 2.25, z = 3.125;
    for (int i = 0; i < n; i++) {
        a = a * 31 + b;
        b ^= c << 3;
        c += d * 7;
        d = d * 13 + e;
        e ^= g >> 1;
        g += h * 3;
        h = h * 5 + k;
        k ^= a;
        x = x * 1.0001 + y;
        y = y * 0.9999 + z;
        z = z + x * 1e-9;
        __asm__ volatile("" ::: "memory");
    }
    return a ^ b ^ c ^ d ^ e ^ g ^ h ^ k ^ (uint64_t)(x + y + z);
}

static void callee_saved_state_survives_switches(void **state) {
    (void)state;
    struct conc__fiber *me = conc__fiber_thread();
    struct conc__fiber f;
    struct pair p = {&f, me, 1000, 0, FE_TONEAREST, false, false};
    assert_int_equal(conc__fiber_init(&f, 0, "busy", busy_entry, &p), 0);
    uint64_t got = mix(me, &f, 1000);
    conc__fiber_switch(me, &f); /* let it reach conc__fiber_exit */
    assert_true(got == mix_plain(1000));
    conc__fiber_destroy(&f);
}

/* Many fibers alive at once, resumed round-robin. */
#define MANY 500
struct member {
    struct conc__fiber f;
    struct conc__fiber *back;
    int id, steps;
    long acc;
};

static void member_entry(void *arg) {
    struct member *m = arg;
    for (int i = 0; i < m->steps; i++) {
        m->acc += m->id * (i + 1);
        conc__fiber_switch(&m->f, m->back);
    }
    conc__fiber_exit(&m->f, m->back);
}

static void many_fibers_interleave(void **state) {
    (void)state;
    struct conc__fiber *me = conc__fiber_thread();
    struct member *ms = calloc(MANY, sizeof *ms);
    for (int i = 0; i < MANY; i++) {
        ms[i].back = me;
        ms[i].id = i;
        ms[i].steps = 10;
        assert_int_equal(conc__fiber_init(&ms[i].f, 32 * 1024, "member", member_entry, &ms[i]), 0);
    }
    for (int round = 0; round <= 10; round++)
        for (int i = 0; i < MANY; i++) conc__fiber_switch(me, &ms[i].f);
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(ms[i].acc, (long)i * 55);
        conc__fiber_destroy(&ms[i].f);
    }
    free(ms);
}

static void stacks_are_rounded_and_recycled(void **state) {
    (void)state;
    assert_int_equal(conc__stack_round(0), 256 * 1024);
    assert_int_equal(conc__stack_round(1), CONC__STACK_MIN);
    assert_int_equal(conc__stack_round(100000) % 4096, 0);
    struct conc__stack a, b;
    assert_int_equal(conc__stack_alloc(&a, 0), 0);
    assert_int_equal(a.size, 256 * 1024);
    void *lo = a.lo;
    memset(a.lo, 0xab, a.size); /* the whole usable range is writable */
    conc__stack_free(&a);
    assert_int_equal(conc__stack_alloc(&b, 0), 0);
    assert_ptr_equal(b.lo, lo); /* from this thread's cache */
    conc__stack_free(&b);
}

CONC_TEST_MAIN(cmocka_unit_test(raw_swap_passes_values_both_ways),
               cmocka_unit_test(fibers_ping_pong_and_keep_their_own_rounding_mode),
               cmocka_unit_test(callee_saved_state_survives_switches),
               cmocka_unit_test(many_fibers_interleave),
               cmocka_unit_test(stacks_are_rounded_and_recycled))
