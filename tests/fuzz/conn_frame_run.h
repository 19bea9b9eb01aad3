/* The frame reader's fuzz driver, shared by the libFuzzer target (tests/fuzz/conn_frame.c) and the
 * cmocka garbage test (tests/unit/conn_garbage.c), so CI runs the same path without libFuzzer.
 *
 * Input: byte 0 picks the connection's limit, byte 1 how the rest is written - all at once, or in
 * pieces with a non-blocking recv attempted between pieces (the resume-mid-frame path). Bytes 2..
 * go through a socketpair into conc_conn_recv until it reports the end. Every result must be a whole
 * message within the limit, then CONC_ECLOSED or CONC_EPROTO; anything else is a bug. */
#ifndef CONC_FUZZ_CONN_FRAME_RUN_H
#define CONC_FUZZ_CONN_FRAME_RUN_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conc.h"

#define CONC_FUZZ_MAX_INPUT 65536 /* fits in a socketpair's buffer: no writer thread needed */

/* Drain what is ready; 1 once the stream ended as it should, 0 if more may come, -1 on a bug. */
static int conc_fuzz_drain(conc_conn_t *c, size_t max, double timeout) {
    for (;;) {
        void *buf;
        size_t len;
        int r = conc_conn_recv(c, &buf, &len, timeout);
        if (r == 0) {
            free(buf);
            if (len > max) return -1;
            continue;
        }
        if (r == -ETIMEDOUT && timeout == 0) return 0;
        return (r == CONC_ECLOSED || r == CONC_EPROTO) ? 1 : -1;
    }
}

/* 0 when the reader behaved, -1 on a bug (an unexpected code, a message over the limit). */
static int conc_fuzz_conn_frame(const uint8_t *data, size_t size) {
    static const size_t limits[4] = {16, 4096, 1 << 20, 0};
    if (size < 2) return 0;
    size_t max = limits[data[0] & 3];
    unsigned piece = data[1] & 0x80 ? (data[1] & 0x7f) + 1 : 0; /* 0: all at once */
    data += 2;
    size -= 2;
    if (size > CONC_FUZZ_MAX_INPUT) size = CONC_FUZZ_MAX_INPUT;
    conc_conn_t *a, *b;
    if (conc_pipe(&a, &b, true) != 0) return 0;
    if (max)
        conc_conn_set_max_message(b, max);
    else
        max = (size_t)1 << 30;
    int fd = conc_conn_fd(a), r = 0;
    for (size_t off = 0; off < size && r == 0;) {
        size_t n = piece && size - off > piece ? piece : size - off;
        ssize_t w = send(fd, data + off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0) break; /* the reader broke the connection: the rest has nowhere to go */
        off += (size_t)w;
        if (piece) r = conc_fuzz_drain(b, max, 0);
    }
    conc_conn_close(a);
    if (r == 0) r = conc_fuzz_drain(b, max, 10);
    conc_conn_close(b);
    return r < 0 ? -1 : 0;
}

#endif
