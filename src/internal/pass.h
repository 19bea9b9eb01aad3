/* Handing objects to child processes (conc_process_opts_t.pass): each object kind registers a
 * passer that turns an object into file descriptors plus bytes, and back. The process module sends
 * them to a spawned or forkserver child (fds with SCM_RIGHTS); under fork the child may use the
 * parent's objects directly. */
#ifndef CONC_INTERNAL_PASS_H
#define CONC_INTERNAL_PASS_H

#include <stddef.h>
#include "base.h"

#define CONC__PASS_MAX_FDS   8
#define CONC__PASS_MAX_BYTES 4096

typedef struct {
    int kind; /* CONC_OBJ_KIND_* */
    /* Describe obj: up to *nfds fds (borrowed: the sender dups what it needs) and up to *len bytes.
     * Returns 0 and sets *nfds and *len, or a negative code. */
    int (*export_obj)(void *obj, int *fds, size_t *nfds, void *buf, size_t *len);
    /* Rebuild in the child from received fds and bytes; NULL on error. The fds are the import's
     * from then on, also when it fails (it closes what it does not keep). */
    void *(*import_obj)(const int *fds, size_t nfds, const void *buf, size_t len);
} conc__passer_t;

/* Called from each object module's constructor. */
CONC_HIDDEN void conc__passer_register(const conc__passer_t *p);
CONC_HIDDEN const conc__passer_t *conc__passer_find(int kind);

/* In a child: the i-th passed object if it is of this kind, else NULL (conc_passed_conn and the
 * others are this with their kind). */
CONC_HIDDEN void *conc__passed_obj(size_t i, int kind);

#endif
