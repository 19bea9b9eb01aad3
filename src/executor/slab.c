/* The memory of a map's blocks of futures (executor.c), and a cache of it.
 *
 * A map of tiny tasks makes and frees a block of 64 futures per 64 tasks. Freed together at the
 * top of the heap, the blocks go back to the kernel (glibc trims the heap) and the next map faults
 * every page in again: on a VM a page fault costs about a microsecond, more than the 64 tasks'
 * own work in the pool. So blocks of up to BLOCK_BYTES all have that size, and up to CACHED of
 * them (8 MiB, the blocks of a 32,768-task map) are kept for the next map. The cache's lock is
 * only ever tried: a fork child whose parent held it, or a contended moment, falls back to malloc
 * and free. */
#include <pthread.h>
#include <stdlib.h>
#include "executor.h"

#define BLOCK_BYTES ((size_t)16 << 10)
#define CACHED      512

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct conc__slab *cache[CACHED];
static size_t ncache;

struct conc__slab *conc__slab_new(size_t bytes, uint32_t refs) {
    struct conc__slab *s = NULL;
    bool fits = bytes <= BLOCK_BYTES;
    if (fits && pthread_mutex_trylock(&mu) == 0) {
        if (ncache) s = cache[--ncache];
        pthread_mutex_unlock(&mu);
    }
    if (!s && !(s = malloc(fits ? BLOCK_BYTES : bytes))) return NULL;
    s->refs = refs;
    s->cacheable = fits;
    return s;
}

void conc__slab_unref(struct conc__slab *s) {
    if (conc__sub(&s->refs, 1) != 0) return;
    if (s->cacheable && pthread_mutex_trylock(&mu) == 0) {
        if (ncache < CACHED) {
            cache[ncache++] = s;
            s = NULL;
        }
        pthread_mutex_unlock(&mu);
    }
    free(s);
}
