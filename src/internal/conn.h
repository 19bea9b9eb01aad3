/* The Connection object, shared by the conn module's files, conc_wait and the passer. */
#ifndef CONC_INTERNAL_CONN_H
#define CONC_INTERNAL_CONN_H

#include <stddef.h>
#include <stdint.h>
#include "conc/conn.h"
#include "conc/sync.h"
#include "base.h"

#define CONC__CONN_READ  0x1u
#define CONC__CONN_WRITE 0x2u

#define CONC__CONN_DEFAULT_MAX ((size_t)1 << 30)
/* A frame header: 4 bytes, or 4 + 8 for frames larger than INT32_MAX (Python's threshold). */
#define CONC__FRAME_HDR_MAX 12

struct conc_conn {
    int fd;           /* a stream socket, blocking (the calls choose MSG_DONTWAIT themselves) */
    unsigned mode;    /* CONC__CONN_READ | CONC__CONN_WRITE */
    uint32_t broken;  /* atomic: a malformed frame closed the connection (both ways) */
    size_t max;       /* atomic: the largest message sent or accepted */
    conc_lock_t send; /* one frame at a time on the wire */
    conc_lock_t recv; /* guards the receive state below */
    /* A frame in progress, kept across a timeout or an interrupt so the stream stays in step. */
    unsigned char hdr[CONC__FRAME_HDR_MAX];
    size_t hdr_have;    /* header bytes read so far */
    unsigned char *msg; /* the body being filled, NULL while reading a header */
    size_t msg_len, msg_cap, msg_have;
    bool wait_first; /* the last header read found nothing: wait before trying (recv.c) */
};

/* Wrap a connected stream socket (taken over: closed by conc_conn_close). NULL on ENOMEM. */
CONC_HIDDEN conc_conn_t *conc__conn_new(int fd, unsigned mode, size_t max);
/* A malformed frame: shut the socket down both ways and drop any partial frame (recv lock held). */
CONC_HIDDEN void conc__conn_break(conc_conn_t *c);
/* Write the header for a len-byte body into hdr; returns its size (4 or 12). */
CONC_HIDDEN size_t conc__frame_header(size_t len, unsigned char *hdr);

/* The passer for this kind (internal/pass.h), registered with the process module. */
#include "pass.h"
CONC_HIDDEN extern const conc__passer_t conc__conn_passer;

#endif
