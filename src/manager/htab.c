/* The server's hash table: bytes -> pointer, chained, with a list in insertion order so dict.items
 * returns pairs in the order they were first set (as a Python dict does).
 *
 * Keys come from clients, so the hash is SipHash (libsodium's crypto_shorthash) under a random key
 * per server: a client cannot choose keys that all land in one bucket. */
#define _GNU_SOURCE
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "srv.h"

static uint64_t hash(const htab_t *t, const void *k, size_t klen) {
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, k, klen, t->seed);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

hent_t *conc__htab_find(htab_t *t, const void *k, size_t klen) {
    if (!t->nb) return NULL;
    uint64_t h = hash(t, k, klen);
    for (hent_t *e = t->b[h & (t->nb - 1)]; e; e = e->chain)
        if (e->hash == h && e->klen == klen && !memcmp(e->key, k, klen)) return e;
    return NULL;
}

static int grow(htab_t *t) {
    size_t nb = t->nb ? t->nb * 2 : 16;
    hent_t **b = calloc(nb, sizeof *b);
    if (!b) return -ENOMEM;
    for (hent_t *e = t->first; e; e = e->next) {
        e->chain = b[e->hash & (nb - 1)];
        b[e->hash & (nb - 1)] = e;
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return 0;
}

hent_t *conc__htab_put(htab_t *t, const void *k, size_t klen) {
    hent_t *e = conc__htab_find(t, k, klen);
    if (e) return e;
    if (t->n >= t->nb && grow(t) < 0) return NULL;
    e = malloc(sizeof *e + klen);
    if (!e) return NULL;
    e->hash = hash(t, k, klen);
    e->val = NULL;
    e->klen = klen;
    memcpy(e->key, k, klen);
    e->chain = t->b[e->hash & (t->nb - 1)];
    t->b[e->hash & (t->nb - 1)] = e;
    e->prev = t->last;
    e->next = NULL;
    if (t->last)
        t->last->next = e;
    else
        t->first = e;
    t->last = e;
    t->n++;
    return e;
}

void conc__htab_del(htab_t *t, hent_t *e) {
    hent_t **pp = &t->b[e->hash & (t->nb - 1)];
    while (*pp != e) pp = &(*pp)->chain;
    *pp = e->chain;
    if (e->prev)
        e->prev->next = e->next;
    else
        t->first = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        t->last = e->prev;
    t->n--;
    free(e);
}

void conc__htab_free(htab_t *t) {
    for (hent_t *e = t->first, *n; e; e = n) {
        n = e->next;
        free(e);
    }
    free(t->b);
    t->b = NULL;
    t->first = t->last = NULL;
    t->n = t->nb = 0;
}
