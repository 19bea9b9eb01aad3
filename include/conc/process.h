/* conc/process.h - multiprocessing.Process with the fork, spawn and forkserver start methods.
 *
 * A child runs a *target*: a function registered by name with CONC_TARGET, so that a spawned child
 * (a fresh exec of /proc/self/exe) can find it. It gets its argument as bytes and returns the
 * child's exit status. conc_init must run first in main: in a spawned or forkserver child it runs
 * the target and exits (Python's `if __name__ == "__main__":` guard). */
#ifndef CONC_PROCESS_H
#define CONC_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "conc/error.h"
#include "conc/time.h"

typedef int (*conc_target_fn)(const void *arg, size_t len);

/* CONC_TARGET(fn) at file scope registers fn under the name "fn" before main runs (a constructor:
 * works the same in an executable, a static or a shared library, and in a spawned child, which runs
 * the same constructors). conc_target_register does it by hand: -EEXIST for a name already taken. */
#define CONC_TARGET(fn)                                                                            \
    __attribute__((constructor)) static void conc__register_target_##fn(void) {                    \
        conc_target_register(#fn, fn);                                                             \
    }

typedef enum {
    CONC_START_DEFAULT = 0,
    CONC_START_FORK,
    CONC_START_SPAWN,
    CONC_START_FORKSERVER
} conc_start_method_t;

typedef struct conc_process conc_process_t;
typedef struct conc_conn conc_conn_t;
typedef struct conc_queue conc_queue_t;
typedef struct conc_shm conc_shm_t;

/* A reference to an object that can be handed to a child or waited on. */
typedef struct {
    int kind;
    void *obj;
} conc_obj_t;
#define CONC_OBJ_KIND_CONN    1
#define CONC_OBJ_KIND_QUEUE   2
#define CONC_OBJ_KIND_SHM     3
#define CONC_OBJ_KIND_PROCESS 4
#define CONC_OBJ_CONN(c)      ((conc_obj_t){CONC_OBJ_KIND_CONN, (c)})
#define CONC_OBJ_QUEUE(q)     ((conc_obj_t){CONC_OBJ_KIND_QUEUE, (q)})
#define CONC_OBJ_SHM(s)       ((conc_obj_t){CONC_OBJ_KIND_SHM, (s)})
#define CONC_OBJ_PROCESS(p)   ((conc_obj_t){CONC_OBJ_KIND_PROCESS, (p)})

typedef struct {
    conc_start_method_t method; /* CONC_START_DEFAULT: the process-wide default */
    bool daemon;
    const char *name;       /* NULL: "Process-N" */
    const conc_obj_t *pass; /* handed to the child, in this order */
    size_t n_pass;
} conc_process_opts_t;

#ifdef __cplusplus
extern "C" {
#endif

CONC_API int conc_target_register(const char *name, conc_target_fn fn);

CONC_API int conc_set_start_method(conc_start_method_t m); /* initial default: FORKSERVER */
CONC_API conc_start_method_t conc_get_start_method(void);

/* -ENOENT unknown target; -EPERM before conc_init */
CONC_API int conc_process_start(conc_process_t **p, const char *target, const void *arg, size_t len,
                                const conc_process_opts_t *opts);
CONC_API int conc_process_join(conc_process_t *p, double timeout);
/* 0 once exited: *code >= 0 status, -signo if killed; -EAGAIN while running */
CONC_API int conc_process_exitcode(conc_process_t *p, int *code);
CONC_API bool conc_process_is_alive(conc_process_t *p);
CONC_API pid_t conc_process_pid(conc_process_t *p);
CONC_API const char *conc_process_name(conc_process_t *p);
CONC_API int conc_process_terminate(conc_process_t *p); /* SIGTERM */
CONC_API int conc_process_kill(conc_process_t *p);      /* SIGKILL */
CONC_API int conc_process_sentinel(conc_process_t *p);  /* readable when the process has ended */
CONC_API void
conc_process_free(conc_process_t *p); /* a running non-daemon child is still joined at exit */

/* In a child's target: the objects the parent passed, by position; NULL if absent or of another kind. */
CONC_API conc_conn_t *conc_passed_conn(size_t i);
CONC_API conc_queue_t *conc_passed_queue(size_t i);
CONC_API conc_shm_t *conc_passed_shm(size_t i);

/* multiprocessing.connection.wait: connections, queues (readable = non-empty) and processes (ended).
 * > 0: how many are ready (flags in ready[]); -ETIMEDOUT */
CONC_API int conc_wait(const conc_obj_t *objs, size_t n, double timeout, bool *ready);

#ifdef __cplusplus
}
#endif
#endif
