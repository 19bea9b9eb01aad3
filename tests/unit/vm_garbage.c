/* The loader's fuzz driver (tests/fuzz/vm_load_run.h) on thousands of generated inputs, so the
 * loader meets garbage in every CI run, not only when someone runs libFuzzer: pure noise; token
 * soup (the assembly's own words, numbers and labels in random order, which gets past the lexer
 * into name resolution and the verifier); and the example programs with bytes flipped, lines
 * dropped, swapped or cut short. */
#include <stdio.h>
#include <stdlib.h>
#include "conc.h"
#include "test.h"
#include "../fuzz/vm_load_run.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void check(const uint8_t *buf, size_t n, int i) {
    if (conc_fuzz_vm_load(buf, n) != 0) fail_msg("input %d: the loader misbehaved", i);
}

static void random_noise(void **state) {
    (void)state;
    uint8_t buf[800];
    for (int i = 0; i < 3000; i++) {
        size_t n = next() % sizeof buf;
        for (size_t k = 0; k < n; k++) buf[k] = (uint8_t)next();
        check(buf, n, i);
    }
}

static const char *words[] = {
    "func",   "end",   "push", "pop",   "dup",  "swap", "over", "load",  "store",
    "add",    "sub",   "mul",  "div",   "mod",  "neg",  "eq",   "ne",    "lt",
    "le",     "gt",    "ge",   "not",   "jmp",  "jz",   "jnz",  "call",  "ret",
    "native", "spawn", "join", "print", "spin", "main", "f",    "l:",    "l",
    "m:",     "m",     "0",    "1",     "2",    "-1",   "0x10", "300",   "9223372036854775808",
    "read",   "write", "pipe", ";",     "#",    ":",    "f:",   "clock",
};

static void token_soup(void **state) {
    (void)state;
    char buf[2000];
    size_t nw = sizeof words / sizeof words[0];
    for (int i = 0; i < 5000; i++) {
        size_t n = 0;
        /* mostly well-formed skeletons: "func NAME N" ... "end" around random lines */
        if (next() % 4)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "func main %u\n", next() % 3);
        int lines = (int)(next() % 20);
        for (int l = 0; l < lines && n < sizeof buf - 100; l++) {
            int toks = (int)(next() % 3) + 1;
            for (int t = 0; t < toks; t++)
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", t ? " " : "",
                                      words[next() % nw]);
            buf[n++] = '\n';
        }
        if (next() % 4) n += (size_t)snprintf(buf + n, sizeof buf - n, "end\n");
        check((const uint8_t *)buf, n, i);
    }
}

static size_t read_example(const char *name, char *buf, size_t cap) {
    char path[512];
    snprintf(path, sizeof path, CONC_SOURCE_DIR "/vm/examples/%s", name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void mutated_examples(void **state) {
    (void)state;
    static const char *names[] = {"countdown.s", "threads.s", "io.s"};
    static char orig[8192], buf[8192];
    for (size_t e = 0; e < 3; e++) {
        size_t len = read_example(names[e], orig, sizeof orig);
        assert_true(len > 0 && len < sizeof orig);
        check((const uint8_t *)orig, len, -1);
        for (int i = 0; i < 1500; i++) {
            memcpy(buf, orig, len);
            size_t n = len;
            switch (next() % 4) {
            case 0: /* flip a few bytes */
                for (int k = (int)(next() % 4); k >= 0; k--) buf[next() % n] = (char)next();
                break;
            case 1: /* cut short */ n = next() % n; break;
            case 2: { /* drop a line */
                size_t a = next() % n, b = a;
                while (a > 0 && buf[a - 1] != '\n') a--;
                while (b < n && buf[b] != '\n') b++;
                if (b < n) b++;
                memmove(buf + a, buf + b, n - b);
                n -= b - a;
                break;
            }
            default: { /* copy a random span over another place */
                size_t a = next() % n, b = next() % n, k = next() % 64;
                if (a + k > n) k = n - a;
                if (b + k > n) k = n - b;
                memmove(buf + b, orig + a, k);
            }
            }
            check((const uint8_t *)buf, n, i);
        }
    }
}

CONC_TEST_MAIN(cmocka_unit_test(random_noise), cmocka_unit_test(token_soup),
               cmocka_unit_test(mutated_examples))
