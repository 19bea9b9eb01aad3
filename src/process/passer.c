/* The passer registry (internal/pass.h): how each object kind travels to a spawned or forkserver
 * child. Modules register from constructors, once per kind, so a fixed array filled with
 * compare-and-swap is enough, and a lookup is a few loads with no lock to inherit across fork. */
#include "../internal/pass.h"

#define PASSERS_MAX 16

static const conc__passer_t *passers[PASSERS_MAX];

void conc__passer_register(const conc__passer_t *p) {
    if (!p || !p->export_obj || !p->import_obj || conc__passer_find(p->kind)) return;
    for (int i = 0; i < PASSERS_MAX; i++) {
        const conc__passer_t *none = NULL;
        if (__atomic_compare_exchange_n(&passers[i], &none, p, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return;
    }
}

const conc__passer_t *conc__passer_find(int kind) {
    for (int i = 0; i < PASSERS_MAX; i++) {
        const conc__passer_t *p = __atomic_load_n(&passers[i], __ATOMIC_ACQUIRE);
        if (!p) break;
        if (p->kind == kind) return p;
    }
    return NULL;
}
