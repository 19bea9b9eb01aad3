/* conc/manager.h - multiprocessing.managers: a server process holding named shared objects (dicts,
 * lists, int64 values, queues, locks, events), used from any process that can reach its address and
 * knows its key, through proxies. Values and keys are bytes.
 *
 * The wire is Python's own (docs/managers.md has the byte-level page): multiprocessing.connection
 * framing, its 3.12 HMAC-SHA256 mutual challenge, then one msgpack message per frame - so a Python
 * program connects with multiprocessing.connection.Client and uses the same objects. Nothing
 * received is ever executed, and every frame is size-limited and validated before it is decoded.
 *
 * Each proxy call is one round trip. Blocking calls (queue put/get, lock acquire, event wait) are
 * parked on the server, which goes on serving every other client meanwhile; their timeout is
 * enforced by the server. A manager handle and its proxies may be used from several threads at
 * once: the calls share one connection and each waits only for its own reply. Close every proxy
 * before freeing its manager. In the main thread a SIGINT ends a blocking call with -EINTR; the
 * request may still complete on the server (a queue item taken then is lost, as in Python). */
#ifndef CONC_MANAGER_H
#define CONC_MANAGER_H

#include <stddef.h>
#include <stdint.h>
#include "conc/bytes.h"
#include "conc/error.h"
#include "conc/process.h"

typedef struct conc_manager conc_manager_t;
typedef struct conc_mdict conc_mdict_t;
typedef struct conc_mlist conc_mlist_t;
typedef struct conc_mvalue conc_mvalue_t;
typedef struct conc_mqueue conc_mqueue_t;
typedef struct conc_mlock conc_mlock_t;
typedef struct conc_mevent conc_mevent_t;

typedef struct {
    /* "unix:PATH", "unix:@NAME" (abstract), "tcp:HOST:PORT", "tcp:[V6ADDR]:PORT" (port 0 picks
     * one); NULL: a private unix socket in a new 0700 directory */
    const char *address;
    const void *authkey; /* NULL: 32 random bytes, handed to children with the manager */
    size_t authkey_len;
    conc_start_method_t method; /* how conc_manager_start starts the server process */
    size_t max_message;         /* the frame size limit, both ways; 0: 64 MiB */
} conc_manager_opts_t;

#define CONC_MANAGER_DEFAULT_MAX_MESSAGE ((size_t)64 << 20)

/* A manager handed to a child (conc_process_opts_t.pass): the child connects to the same server
 * with the same key. conc_passed_manager(i) in the child returns it (owned by the child's runtime,
 * do not free it). */
#define CONC_OBJ_KIND_MANAGER 16
#define CONC_OBJ_MANAGER(m)   ((conc_obj_t){CONC_OBJ_KIND_MANAGER, (m)})

#ifdef __cplusplus
extern "C" {
#endif

/* Start a server process (opts->method) and connect to it. Freeing or shutting down this handle
 * stops the server; so does this process's exit. */
CONC_API int conc_manager_start(conc_manager_t **m, const conc_manager_opts_t *opts);
/* Serve in this process until a client asks for shutdown (0) or SIGINT in the main thread
 * (-EINTR). What `conc manager serve` runs. */
CONC_API int conc_manager_serve(const conc_manager_opts_t *opts);
/* The same, calling ready(address, arg) once listening, with the real address (port 0 resolved). */
CONC_API int conc_manager_serve_notify(const conc_manager_opts_t *opts,
                                       void (*ready)(const char *address, void *arg), void *arg);
/* CONC_EAUTH if either side does not know the key; -ECONNREFUSED, -ENOENT, ... from the socket */
CONC_API int conc_manager_connect(conc_manager_t **m, const char *address, const void *authkey,
                                  size_t len);
CONC_API const char *conc_manager_address(conc_manager_t *m); /* the real port, after port 0 */
CONC_API const void *conc_manager_authkey(conc_manager_t *m, size_t *len);
CONC_API int conc_manager_shutdown(conc_manager_t *m); /* stop the server (any client may) */
CONC_API void conc_manager_free(conc_manager_t *m);    /* disconnect */
CONC_API conc_manager_t *conc_passed_manager(size_t i);

/* Managed objects, created on first open, shared by name (one namespace per kind). */
CONC_API int conc_mdict_open(conc_manager_t *m, const char *name, conc_mdict_t **d);
CONC_API int conc_mdict_set(conc_mdict_t *d, const void *k, size_t klen, const void *v,
                            size_t vlen);
/* -ENOENT; *v malloc'd */
CONC_API int conc_mdict_get(conc_mdict_t *d, const void *k, size_t klen, void **v, size_t *vlen);
CONC_API int conc_mdict_del(conc_mdict_t *d, const void *k, size_t klen); /* -ENOENT */
CONC_API int conc_mdict_len(conc_mdict_t *d, size_t *n);
/* kv[2i] is a key, kv[2i+1] its value; one round trip */
CONC_API int conc_mdict_update(conc_mdict_t *d, const conc_bytes_t *kv, size_t npairs);
/* a snapshot in insertion order, one round trip: *kv is one malloc'd block (free(*kv) frees all) */
CONC_API int conc_mdict_items(conc_mdict_t *d, conc_bytes_t **kv, size_t *npairs);

CONC_API int conc_mlist_open(conc_manager_t *m, const char *name, conc_mlist_t **l);
CONC_API int conc_mlist_append(conc_mlist_t *l, const void *v, size_t len);
/* -ERANGE; negative i counts from the end */
CONC_API int conc_mlist_get(conc_mlist_t *l, long i, void **v, size_t *len);
CONC_API int conc_mlist_set(conc_mlist_t *l, long i, const void *v, size_t len);
CONC_API int conc_mlist_pop(conc_mlist_t *l, long i, void **v, size_t *len);
CONC_API int conc_mlist_len(conc_mlist_t *l, size_t *n);

CONC_API int conc_mvalue_open(conc_manager_t *m, const char *name,
                              conc_mvalue_t **v); /* an int64, starts at 0 */
CONC_API int conc_mvalue_get(conc_mvalue_t *v, int64_t *out);
CONC_API int conc_mvalue_set(conc_mvalue_t *v, int64_t x);
/* atomic on the server; -ERANGE on int64 overflow (the value is unchanged) */
CONC_API int conc_mvalue_add(conc_mvalue_t *v, int64_t delta, int64_t *result);

/* maxsize (0: unbounded) counts only at the queue's first open */
CONC_API int conc_mqueue_open(conc_manager_t *m, const char *name, size_t maxsize,
                              conc_mqueue_t **q);
CONC_API int conc_mqueue_put(conc_mqueue_t *q, const void *v, size_t len, double timeout);
CONC_API int conc_mqueue_get(conc_mqueue_t *q, void **v, size_t *len, double timeout);

CONC_API int conc_mlock_open(conc_manager_t *m, const char *name, conc_mlock_t **l);
/* CONC_EOWNERDEAD (acquired) if the previous holder's connection died holding it; not reentrant */
CONC_API int conc_mlock_acquire(conc_mlock_t *l, double timeout);
CONC_API int conc_mlock_release(conc_mlock_t *l); /* -EPERM if this connection does not hold it */

CONC_API int conc_mevent_open(conc_manager_t *m, const char *name, conc_mevent_t **e);
CONC_API int conc_mevent_set(conc_mevent_t *e);
CONC_API int conc_mevent_clear(conc_mevent_t *e);
CONC_API int conc_mevent_wait(conc_mevent_t *e, double timeout);

CONC_API void conc_mproxy_close(void *proxy); /* any conc_m*_t; the object lives on in the server */

#ifdef __cplusplus
}
#endif
#endif
