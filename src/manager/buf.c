/* The growable byte buffer every encoder in the module writes into (requests, replies, a
 * connection's pending output). Doubling, so a batch of n items costs O(n) copies in all. */
#define _GNU_SOURCE
#include <stdlib.h>
#include "mgr.h"

char *conc__mbuf_room(conc__mbuf_t *b, size_t n) {
    if (n > SIZE_MAX / 2 - b->len) return NULL;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return NULL;
        b->p = p;
        b->cap = cap;
    }
    return b->p + b->len;
}

void conc__mbuf_free(conc__mbuf_t *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
