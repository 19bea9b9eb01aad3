/* The manager fuzz target's driver (tests/fuzz/manager_request_run.h) on valid requests for every
 * method and a few thousand deterministic mutations of them (bytes flipped, cut, spliced, frame
 * headers changed), so CI runs the request path on hostile input without libFuzzer. */
/* TEST_TIMEOUT: 120 */
#include <stdio.h>
#include "test.h"
#include "../fuzz/manager_request_run.h"

static const struct {
    const char *method;
    const char *args; /* a tiny recipe: b bytes, i int, t timeout, P pairs */
} recipes[] = {
    {"dict.set", "bb"},   {"dict.get", "b"},   {"dict.del", "b"},     {"dict.len", ""},
    {"dict.update", "P"}, {"dict.items", ""},  {"dict.open", ""},     {"list.append", "b"},
    {"list.get", "i"},    {"list.set", "ib"},  {"list.pop", "i"},     {"list.len", ""},
    {"value.get", ""},    {"value.set", "i"},  {"value.add", "i"},    {"queue.open", "i"},
    {"queue.put", "bt"},  {"queue.get", "t"},  {"lock.acquire", "t"}, {"lock.release", ""},
    {"event.set", ""},    {"event.clear", ""}, {"event.wait", "t"},   {"manager.shutdown", ""},
};

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* One frame (header + request) appended to b. */
static void frame(conc__mbuf_t *b, int which, uint64_t id) {
    conc__mbuf_t body = {0};
    const char *a = recipes[which].args;
    assert_int_equal(
        conc__mreq_begin(&body, id, recipes[which].method, "obj", 3, (uint32_t)strlen(a)), 0);
    for (; *a; a++) {
        if (*a == 'b') conc__mp_put_bin(&body, "xyz", next_rand() % 4);
        if (*a == 'i') conc__mp_put_int(&body, (int64_t)(next_rand() % 7) - 3);
        if (*a == 't') conc__mp_put_double(&body, (next_rand() % 3) ? 0.0 : -1.0);
        if (*a == 'P') {
            conc__mp_put_array(&body, 2);
            for (int i = 0; i < 2; i++) {
                conc__mp_put_array(&body, 2);
                conc__mp_put_bin(&body, "k", 1);
                conc__mp_put_bin(&body, "v", 1);
            }
        }
    }
    unsigned char hdr[CONC__FRAME_HDR_MAX];
    size_t h = conc__frame_header(body.len, hdr);
    char *p = conc__mbuf_room(b, h + body.len);
    memcpy(p, hdr, h);
    memcpy(p + h, body.p, body.len);
    b->len += h + body.len;
    conc__mbuf_free(&body);
}

static void valid_requests(void **state) {
    (void)state;
    conc__mbuf_t b = {0};
    for (int r = 0; r < 3; r++)
        for (size_t i = 0; i < sizeof recipes / sizeof *recipes - 1; i++) frame(&b, (int)i, i);
    assert_int_equal(conc_fuzz_manager_request((const uint8_t *)b.p, b.len), 0);
    conc__mbuf_free(&b);
}

static void mutated_requests(void **state) {
    (void)state;
    for (int n = 0; n < 3000; n++) {
        conc__mbuf_t b = {0};
        int frames = 1 + (int)(next_rand() % 6);
        for (int f = 0; f < frames; f++)
            frame(&b, (int)(next_rand() % (sizeof recipes / sizeof *recipes)), next_rand());
        int edits = 1 + (int)(next_rand() % 4);
        for (int e = 0; e < edits && b.len; e++) {
            size_t at = next_rand() % b.len;
            switch (next_rand() % 4) {
            case 0: b.p[at] = (char)next_rand(); break;
            case 1: b.len = at; break;                                /* cut */
            case 2: b.p[at] = (char)(0xc0 + next_rand() % 32); break; /* a type byte */
            case 3: b.p[at] ^= (char)(1u << (next_rand() % 8)); break;
            }
        }
        if (conc_fuzz_manager_request((const uint8_t *)b.p, b.len) != 0) fail_msg("input %d", n);
        conc__mbuf_free(&b);
    }
}

CONC_TEST_MAIN(cmocka_unit_test(valid_requests), cmocka_unit_test(mutated_requests))
