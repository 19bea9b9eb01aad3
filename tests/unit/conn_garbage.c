/* The fuzz target's driver (tests/fuzz/conn_frame_run.h) on a few thousand random inputs, so the
 * frame reader meets garbage in every CI run, not only when someone runs libFuzzer: pure noise, and
 * streams of valid frames (4- and 12-byte headers) with a byte flipped or the tail cut off. */
#include "ipc_util.h"
#include "../fuzz/conn_frame_run.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void random_noise(void **state) {
    (void)state;
    uint8_t buf[600];
    for (int i = 0; i < 3000; i++) {
        size_t n = next() % sizeof buf;
        for (size_t k = 0; k < n; k++) buf[k] = (uint8_t)next();
        if (conc_fuzz_conn_frame(buf, n) != 0) fail_msg("input %d rejected wrongly", i);
    }
}

static size_t valid_stream(uint8_t *buf, size_t cap) {
    size_t n = 0;
    while (n + 12 + 64 < cap && next() % 8) {
        size_t len = next() % 64;
        if (next() % 4 == 0) {
            be32(buf + n, -1);
            be64(buf + n + 4, len);
            n += 12;
        } else {
            be32(buf + n, (int32_t)len);
            n += 4;
        }
        for (size_t k = 0; k < len; k++) buf[n++] = (uint8_t)next();
    }
    return n;
}

static void mutated_frames(void **state) {
    (void)state;
    uint8_t buf[2 + 1200];
    for (int i = 0; i < 3000; i++) {
        buf[0] = (uint8_t)next();
        buf[1] = (uint8_t)next();
        size_t n = valid_stream(buf + 2, sizeof buf - 2);
        if (n && next() % 2) buf[2 + next() % n] ^= (uint8_t)(1u << (next() % 8));
        if (n && next() % 2) n = next() % n;
        if (conc_fuzz_conn_frame(buf, n + 2) != 0) fail_msg("input %d rejected wrongly", i);
    }
}

CONC_TEST_MAIN(cmocka_unit_test(random_noise), cmocka_unit_test(mutated_frames))
