/* The manager server's structures, shared by its files: the event loop (serve.c), a client
 * connection's life (sconn.c), request dispatch (dispatch.c), the objects (obj_*.c), the hash table
 * (htab.c) and parked requests (park.c).
 *
 * One thread runs everything: the objects need no locks, an operation is atomic because nothing
 * else runs while it does, and a request that must wait (queue.get on an empty queue, lock.acquire
 * on a held lock, event.wait) is *parked* - a small record on the object and on the server's list -
 * instead of blocking, so every other client goes on being served. */
#ifndef CONC_MANAGER_SRV_H
#define CONC_MANAGER_SRV_H

#include "mgr.h"

typedef struct srv srv_t;
typedef struct sconn sconn_t;
typedef struct park park_t;
typedef struct mobj mobj_t;

typedef struct {
    size_t len;
    char data[];
} blob_t;
CONC_HIDDEN blob_t *conc__blob(const void *p, size_t len);

/* ---- hash table with insertion order (htab.c): bytes -> void * ---- */
typedef struct hent hent_t;
struct hent {
    hent_t *chain, *prev, *next; /* bucket chain; insertion order */
    uint64_t hash;
    void *val;
    size_t klen;
    char key[];
};
typedef struct {
    hent_t **b;
    size_t nb, n;
    hent_t *first, *last;
    const unsigned char *seed; /* the server's random SipHash key: no hash flooding */
} htab_t;
CONC_HIDDEN hent_t *conc__htab_find(htab_t *t, const void *k, size_t klen);
/* The entry for k, added with val NULL if absent; NULL on ENOMEM. */
CONC_HIDDEN hent_t *conc__htab_put(htab_t *t, const void *k, size_t klen);
CONC_HIDDEN void conc__htab_del(htab_t *t, hent_t *e); /* frees e, not its val */
CONC_HIDDEN void conc__htab_free(htab_t *t);           /* the table, not the vals */

/* ---- objects ---- */
enum { K_DICT, K_LIST, K_VALUE, K_QUEUE, K_LOCK, K_EVENT, K_COUNT };
struct mobj {
    int kind;
    park_t *wait_first, *wait_last; /* parked requests, FIFO */
    union {
        htab_t dict; /* vals are blob_t * */
        struct {
            blob_t **v;
            size_t n, cap;
        } list;
        int64_t value;
        struct {
            blob_t **ring;
            size_t head, n, cap, maxsize;
        } queue;
        struct {
            uint64_t owner; /* a connection id, 0: free */
            bool dead;      /* released by a connection's death: the next taker hears so */
        } lock;
        bool event;
    } u;
};

/* ---- parked requests (park.c) ---- */
enum { P_GET, P_PUT, P_ACQUIRE, P_WAIT };
struct park {
    park_t *gprev, *gnext; /* the server's list */
    park_t *oprev, *onext; /* the object's list */
    sconn_t *c;
    mobj_t *o;
    uint64_t msgid;
    int op;
    double deadline; /* INFINITY: none */
    blob_t *item;    /* a put's value */
};

/* ---- connections ---- */
enum { S_CHALLENGED, S_WANT_CHALLENGE, S_WANT_WELCOME, S_READY };
struct sconn {
    sconn_t *prev, *next;
    srv_t *s;
    conc_conn_t *conn; /* owns the socket (closed with it) */
    int fd;
    char *in; /* bytes read, not yet dispatched: one recv brings a header and its body */
    size_t in_have, in_cap;
    bool batching; /* replies wait for one write at the end of the batch */
    int family;
    /* the fast path (sfast.c): the client's slot, NULL when it has none */
    conc__mshm_t *shm;
    sconn_t *fprev, *fnext; /* the server's list of connections with a slot */
    bool fast_active;       /* a request from the slot is being dispatched... */
    bool fast_replied;      /* ...and its reply is in fast_out */
    uint64_t fast_msgid;
    conc__mbuf_t fast_out;
    uint64_t id;
    int state;
    double deadline; /* the handshake's */
    unsigned char chal[CONC__AUTH_CHAL_LEN];
    conc__mbuf_t out; /* frames not yet written */
    size_t out_off;
    uint32_t events; /* what epoll watches now */
    bool closing;    /* write what is pending, then close */
};

struct srv {
    int epfd, lfd, ctl_fd;
    const unsigned char *key;
    size_t key_len, max;
    unsigned char seed[16];
    sconn_t *conns;
    park_t *parks;
    htab_t objs; /* kind byte + name -> mobj_t * */
    uint64_t next_id;
    size_t unauth;   /* connections still in the handshake */
    bool accept_off; /* out of fds: the listener rests until a connection closes */
    bool no_intr;
    bool made; /* the request being dispatched created its object */
    /* the fast path (sfast.c) */
    int bell;      /* the doorbell eventfd every slot's client rings, -1 until needed */
    sconn_t *fast; /* connections with a slot */
    char *fast_in; /* a request copied out of a slot before it is looked at */
    double spin;   /* how long to watch the slots after a request before sleeping */
    unsigned probe;
    bool stop;
};

/* sconn.c */
CONC_HIDDEN void conc__sconn_accept(srv_t *s);
CONC_HIDDEN void conc__sconn_event(sconn_t *c, uint32_t ev);
CONC_HIDDEN void conc__sconn_close(sconn_t *c);
CONC_HIDDEN void conc__sconn_flush(sconn_t *c);
/* Queue a reply frame [msgid, err, result]: put writes the result (NULL: nil). On an encoding
 * failure the reply becomes err -ENOMEM or -EMSGSIZE with a nil result. */
typedef int (*reply_fn)(conc__mbuf_t *b, const void *ctx);
CONC_HIDDEN void conc__reply(sconn_t *c, uint64_t msgid, int err, reply_fn put, const void *ctx);
CONC_HIDDEN int conc__put_blob(conc__mbuf_t *b, const void *blob); /* ctx: blob_t * */
CONC_HIDDEN int conc__put_int(conc__mbuf_t *b, const void *i64);   /* ctx: int64_t * */

CONC_HIDDEN void conc__sconn_settle(sconn_t *c); /* close it if it is done, else watch it */
CONC_HIDDEN void conc__sconn_frame(sconn_t *c, const void *p, size_t len); /* queue a frame */

/* sfast.c */
CONC_HIDDEN void conc__fast_grant(sconn_t *c, uint64_t msgid); /* "manager.fast" */
CONC_HIDDEN void conc__fast_drop(sconn_t *c);                  /* on close */
/* Watch the slots for requests and serve them, until none came for s->spin; true if any did. */
CONC_HIDDEN bool conc__fast_spin(srv_t *s);
/* Before sleeping: flag every slot so its client rings; false (flags cleared) if a request came
 * meanwhile, and the loop must not sleep. conc__fast_awake clears the flags. */
CONC_HIDDEN bool conc__fast_sleep(srv_t *s);
CONC_HIDDEN void conc__fast_awake(srv_t *s);
CONC_HIDDEN void conc__fast_free(srv_t *s);

/* dispatch.c: one request frame from an authenticated connection */
CONC_HIDDEN void conc__dispatch(sconn_t *c, const void *frame, size_t len);

/* park.c */
CONC_HIDDEN park_t *conc__park(sconn_t *c, mobj_t *o, uint64_t msgid, int op, double timeout);
CONC_HIDDEN void conc__unpark(park_t *p); /* unlink and free (not the item) */
CONC_HIDDEN double conc__park_next_deadline(srv_t *s);
CONC_HIDDEN void conc__park_expire(srv_t *s, double now);
CONC_HIDDEN void conc__park_drop_conn(sconn_t *c);

/* obj.c: lookup/creation and each kind's operations */
CONC_HIDDEN mobj_t *conc__obj_get(srv_t *s, int kind, const char *name, size_t nlen, bool *made);
CONC_HIDDEN void conc__obj_free(mobj_t *o);
CONC_HIDDEN void conc__obj_pump(mobj_t *o); /* grant what parked requests can now have */
CONC_HIDDEN void conc__lock_conn_died(srv_t *s, uint64_t id);
/* obj_*.c: run method on o; return 1 if the request was parked (reply later), else 0 (replied). */
typedef int (*method_fn)(sconn_t *c, mobj_t *o, const conc__mreq_t *r);
CONC_HIDDEN method_fn conc__method(int kind, const char *name, size_t len);

#endif
