/* The future's life and its read side: creation, reference counting, done/cancelled/result.
 *
 * Reads need no lock: the outcome is published once by a release exchange of `state` (see
 * internal/future.h), so an acquire load that sees it also sees value and err. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../internal/future.h"

conc_future_t *conc_future_new(void) {
    conc_future_t *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->refs = 1;
    return f;
}

/* One allocation for the future and what it owns (an executor's task block): a map of many tiny
 * tasks makes and frees one of these per task. */
conc_future_t *conc__future_new_with(size_t extra, void **p) {
    conc_future_t *f = malloc(sizeof *f + extra);
    if (!f) return NULL;
    memset(f, 0, sizeof *f);
    f->refs = 1;
    *p = f + 1;
    return f;
}

void conc_future_retain(conc_future_t *f) {
    __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
}

/* Callbacks still registered on a future nobody can complete any more are dropped unrun. */
void conc_future_release(conc_future_t *f) {
    if (!f || conc__sub(&f->refs, 1) != 0) return;
    for (struct conc__fcb *c = f->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    if (f->dtor) f->dtor(conc__fkind(f) == CONC__F_RESULT ? f->value : NULL, f->dtor_ctx);
    if (f->dispose)
        f->dispose(f);
    else
        free(f);
}

bool conc_future_done(conc_future_t *f) {
    return conc__fkind(f) != CONC__F_PENDING;
}

bool conc_future_cancelled(conc_future_t *f) {
    return conc__fkind(f) == CONC__F_CANCELLED;
}

int conc_future_result(conc_future_t *f, void **value) {
    uint32_t k = conc__fkind(f);
    if (value) *value = k == CONC__F_RESULT ? f->value : NULL;
    switch (k) {
    case CONC__F_RESULT: return 0;
    case CONC__F_ERROR: return f->err;
    case CONC__F_CANCELLED: return -ECANCELED;
    default: return -EAGAIN;
    }
}
