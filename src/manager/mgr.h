/* What the manager module's files share: the growable byte buffer the codecs write into, the
 * bounded msgpack walker, the request/reply codec, the HMAC handshake pieces, addresses, and the
 * client handle. The server's own structures are in srv.h. */
#ifndef CONC_MANAGER_MGR_H
#define CONC_MANAGER_MGR_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include "conc/conn.h"
#include "conc/manager.h"
#include "conc/sync.h"
#include "../internal/base.h"

/* ---- growable buffer (buf.c) ---- */
typedef struct {
    char *p;
    size_t len, cap;
} conc__mbuf_t;
/* Room for n more bytes at p + len; NULL on ENOMEM (the buffer is unchanged). */
CONC_HIDDEN char *conc__mbuf_room(conc__mbuf_t *b, size_t n);
CONC_HIDDEN void conc__mbuf_free(conc__mbuf_t *b);

/* ---- bounded msgpack walker (walk.c) ---- */
#define CONC__MP_MAX_DEPTH 16
/* 0 if buf holds exactly one well-formed msgpack object, nested at most max_depth deep, whose every
 * announced length and count fits in the bytes that remain; -EINVAL otherwise. Only after this may
 * msgpuck's decoders touch the bytes. */
CONC_HIDDEN int conc__mp_walk(const void *buf, size_t len, unsigned max_depth);

/* ---- typed reads of walked msgpack (codec.c): 0 or -EINVAL, *p advanced on success ---- */
CONC_HIDDEN int conc__mp_bytes(const char **p, const char **data, uint32_t *len); /* bin or str */
CONC_HIDDEN int conc__mp_int(const char **p, int64_t *v);
CONC_HIDDEN int conc__mp_timeout(const char **p, double *t); /* int, float, nil (forever) */
CONC_HIDDEN int conc__mp_array(const char **p, uint32_t *n);
CONC_HIDDEN void conc__mp_skip(const char **p);

/* A decoded request [msgid, "kind.method", name, [args...]]; pointers into the frame. */
typedef struct {
    uint64_t msgid;
    const char *method, *name, *args; /* args: just past the args array header */
    uint32_t method_len, name_len, nargs;
} conc__mreq_t;
/* 0; -EINVAL when the frame is a request with a usable msgid but bad fields (reply -EINVAL);
 * CONC_EPROTO when it is not a request at all (close the connection). */
CONC_HIDDEN int conc__mreq_decode(const void *frame, size_t len, conc__mreq_t *r);
/* Start a request frame body in b: [msgid, method, name, [ - the caller appends nargs args. */
CONC_HIDDEN int conc__mreq_begin(conc__mbuf_t *b, uint64_t msgid, const char *method,
                                 const char *name, size_t nlen, uint32_t nargs);
CONC_HIDDEN int conc__mp_put_bin(conc__mbuf_t *b, const void *v, size_t len);
CONC_HIDDEN int conc__mp_put_int(conc__mbuf_t *b, int64_t v);
CONC_HIDDEN int conc__mp_put_uint(conc__mbuf_t *b, uint64_t v);
CONC_HIDDEN int conc__mp_put_double(conc__mbuf_t *b, double v);
CONC_HIDDEN int conc__mp_put_array(conc__mbuf_t *b, uint32_t n);
CONC_HIDDEN int conc__mp_put_nil(conc__mbuf_t *b);
/* A reply [msgid, err, result]: 0 and *result just past err, or CONC_EPROTO. */
CONC_HIDDEN int conc__mrep_decode(const void *frame, size_t len, uint64_t *msgid, int *err,
                                  const char **result);

/* ---- authentication (auth.c) ---- */
#define CONC__AUTH_CHALLENGE "#CHALLENGE#"
#define CONC__AUTH_WELCOME   "#WELCOME#"
#define CONC__AUTH_FAILURE   "#FAILURE#"
#define CONC__AUTH_PREFIX    "{sha256}"
#define CONC__AUTH_NONCE     40  /* Python's MESSAGE_LENGTH */
#define CONC__AUTH_MAX_FRAME 256 /* Python reads every handshake message with recv_bytes(256) */
#define CONC__AUTH_CHAL_LEN  (sizeof CONC__AUTH_CHALLENGE - 1 + sizeof CONC__AUTH_PREFIX - 1 + 40)
#define CONC__AUTH_RESP_LEN  (sizeof CONC__AUTH_PREFIX - 1 + 32)
/* A challenge frame: "#CHALLENGE#{sha256}" + 40 random bytes. */
CONC_HIDDEN int conc__auth_challenge(unsigned char out[CONC__AUTH_CHAL_LEN]);
/* The answer to a received challenge frame, "{sha256}" + HMAC(key, everything after #CHALLENGE#);
 * -EINVAL for a frame that is not a {sha256} challenge (a legacy HMAC-MD5 peer included). */
CONC_HIDDEN int conc__auth_answer(const void *key, size_t klen, const void *chal, size_t len,
                                  unsigned char out[CONC__AUTH_RESP_LEN]);
/* Whether resp answers the challenge frame chal (constant-time compare): true or false. */
CONC_HIDDEN bool conc__auth_verify(const void *key, size_t klen, const void *chal, size_t clen,
                                   const void *resp, size_t rlen);
/* The client side over a blocking connection: answer the server's challenge, then challenge it.
 * 0, CONC_EAUTH, or the connection's error. */
CONC_HIDDEN int conc__auth_client(conc_conn_t *c, const void *key, size_t klen, double deadline);
CONC_HIDDEN int conc__random(void *buf, size_t n);

/* ---- addresses (address.c) ---- */
typedef struct {
    struct sockaddr_storage sa;
    socklen_t len;
    int family;
} conc__maddr_t;
/* Parse "unix:PATH", "unix:@NAME", "tcp:HOST:PORT", "tcp:[V6]:PORT"; -EINVAL, or a getaddrinfo
 * failure as -EADDRNOTAVAIL. */
CONC_HIDDEN int conc__maddr_parse(const char *address, conc__maddr_t *a);
/* The address text of a bound or connected socket's local end, malloc'd; NULL on ENOMEM. */
CONC_HIDDEN char *conc__maddr_format(const conc__maddr_t *a);
CONC_HIDDEN int conc__maddr_listen(const conc__maddr_t *a, int *fd, conc__maddr_t *bound);
CONC_HIDDEN int conc__maddr_connect(const conc__maddr_t *a, int *fd);

/* ---- the same-host fast path (fast.c, sfast.c; docs/managers.md, "Shared-memory calls") ----
 * One request/reply slot per connection in a memfd the server creates and hands over with
 * SCM_RIGHTS, plus a doorbell eventfd. The socket stays the connection: its EOF is a death. */
#define CONC__MSHM_MAGIC 0x636d6631u        /* "cmf1" */
#define CONC__MSHM_CAP   ((size_t)64 << 10) /* bytes in the request area, and in the reply area */
enum { MS_IDLE, MS_REQ, MS_DONE, MS_SOCKET };
typedef struct {
    uint32_t magic, cap;    /* written once by the server before handing it over */
    uint32_t state;         /* futex word: MS_REQ while the server owns the slot */
    uint32_t client_sleeps; /* the client sleeps on state: futex-wake it */
    uint32_t server_sleeps; /* the server sleeps in epoll: ring the doorbell */
    uint32_t req_len, rep_len;
    char pad[64 - 7 * sizeof(uint32_t)];
    char req[]; /* cap bytes, then the reply area, cap bytes */
} conc__mshm_t;
#define CONC__MSHM_SIZE (sizeof(conc__mshm_t) + 2 * CONC__MSHM_CAP)

/* ---- the client handle (client.c) ---- */
typedef struct conc__mwaiter conc__mwaiter_t;
struct conc_manager {
    conc_conn_t *conn;
    char *address;
    unsigned char *key;
    size_t key_len, max;
    pid_t pid;              /* the process that connected: a forked child must reconnect */
    conc_process_t *server; /* the server process, when conc_manager_start started it */
    uint64_t next_msgid;    /* atomic */
    pthread_mutex_t mu;     /* guards what follows (not a conc_lock: SIGINT must not end it) */
    bool reading;           /* a caller is reading replies for everyone */
    int broken;             /* the connection's error once it failed */
    conc__mwaiter_t *waiters;
    char *rbuf; /* the reader's: bytes received, not yet handed out */
    size_t rhave, rcap;
    /* the fast path (fast.c): NULL when off */
    conc__mshm_t *fast;
    int bell;
    double spin;             /* how long a call spins before it sleeps (adapts) */
    unsigned probe;          /* calls since spinning was last tried at full length */
    pthread_mutex_t fast_mu; /* one call in the slot at a time; others take the socket */
};
/* After connecting (and after a fork's reconnect): ask for the fast path on a unix socket. Failing
 * to get it is not an error: the calls stay on the socket. */
CONC_HIDDEN void conc__mfast_open(conc_manager_t *m);
CONC_HIDDEN void conc__mfast_close(conc_manager_t *m);
/* One call through the slot: 0 with the reply frame (malloc'd), 1 when the reply comes on the
 * socket (the caller's waiter is registered), 2 when the slot is busy (send on the socket), or an
 * error. */
CONC_HIDDEN int conc__mfast_call(conc_manager_t *m, const conc__mbuf_t *req, void **frame,
                                 size_t *len);
CONC_HIDDEN int conc__mread_reply(conc_manager_t *m, void **out, size_t *len);

/* One round trip: send the request in req (a frame body starting with the msgid given), wait for
 * the reply with that msgid. 0 with *frame (malloc'd, the caller frees) and *result pointing into it
 * at the result, or the reply's err (frame freed), or a connection error. */
CONC_HIDDEN int conc__mcall(conc_manager_t *m, uint64_t msgid, const conc__mbuf_t *req,
                            void **frame, const char **result);
CONC_HIDDEN uint64_t conc__mnext_id(conc_manager_t *m);

/* Proxies: every conc_m*_t is one of these. */
typedef struct {
    conc_manager_t *m;
    const char *kind; /* "dict", "list", ... */
    size_t name_len;
    char name[];
} conc__mproxy_t;
CONC_HIDDEN int conc__mproxy_open(conc_manager_t *m, const char *kind, const char *name,
                                  const int64_t *maxsize, conc__mproxy_t **out);
/* Call p's "kind.method" with nargs args written by the caller's put callback. */
typedef int (*conc__margs_fn)(conc__mbuf_t *b, const void *ctx);
CONC_HIDDEN int conc__mproxy_call(conc__mproxy_t *p, const char *method, uint32_t nargs,
                                  conc__margs_fn put, const void *ctx, void **frame,
                                  const char **result);
/* Result readers: copy a bin result out (malloc'd), or read an int. */
CONC_HIDDEN int conc__mres_bytes(const char *result, void **v, size_t *len);
CONC_HIDDEN int conc__mres_int(const char *result, int64_t *v);

/* ---- the server (serve.c) ---- */
typedef struct {
    const char *address;
    const unsigned char *key;
    size_t key_len, max;
    int ctl_fd;   /* -1, or a pidfd: when that process ends, so does the server */
    bool no_intr; /* SIGINT is not ours to honour (the server process ignores it) */
    void (*ready)(const char *address, void *arg); /* once listening, with the real address */
    void *ready_arg;
} conc__mserve_opts_t;
CONC_HIDDEN int conc__mserve(const conc__mserve_opts_t *o);

#endif
