/* asyncio.Queue, LifoQueue and PriorityQueue for tasks.
 *
 * Storage is a ring of pointers (FIFO from the head, LIFO from the tail) or a binary heap ordered
 * by cmp and then by put order (PriorityQueue). Hand-over is direct both ways: a put finding a
 * getter waiting (the queue is then empty) gives it the item; a get that frees room moves the
 * first waiting putter's item in. Either way the item has a home before anyone runs, so a getter
 * or putter cancelled or timed out while waiting loses nothing (it is unlinked, its item was never
 * taken), and one cancelled after the hand-over keeps what it got (the call returns 0).
 * task_done/join count items put, as asyncio's unfinished_tasks. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "../internal/aio.h"

struct slot {
    void *item;
    uint64_t seq;
};

struct conc_aqueue {
    conc_aqueue_kind_t kind;
    int (*cmp)(const void *, const void *);
    size_t maxsize;
    struct slot *buf;
    size_t cap, head, n; /* ring: items at head .. head+n-1; heap: buf[0..n-1] */
    uint64_t seq;
    size_t unfinished;
    conc_awaiters_t getters, putters, joiners;
};

int conc_aqueue_new(conc_aqueue_t **qp, const conc_aqueue_opts_t *opts) {
    if (!qp) return -EINVAL;
    *qp = NULL;
    conc_aqueue_opts_t o = opts ? *opts : (conc_aqueue_opts_t){0, CONC_AQUEUE_FIFO, NULL};
    if (o.kind > CONC_AQUEUE_PRIORITY || (o.kind == CONC_AQUEUE_PRIORITY && !o.cmp)) return -EINVAL;
    conc_aqueue_t *q = calloc(1, sizeof *q);
    if (!q) return -ENOMEM;
    q->kind = o.kind;
    q->cmp = o.cmp;
    q->maxsize = o.maxsize;
    *qp = q;
    return 0;
}

void conc_aqueue_free(conc_aqueue_t *q) {
    if (!q) return;
    free(q->buf);
    free(q);
}

size_t conc_aqueue_qsize(conc_aqueue_t *q) {
    return q ? q->n : 0;
}
bool conc_aqueue_empty(conc_aqueue_t *q) {
    return !q || q->n == 0;
}
bool conc_aqueue_full(conc_aqueue_t *q) {
    return q && q->maxsize > 0 && q->n >= q->maxsize;
}

static bool before(conc_aqueue_t *q, const struct slot *a, const struct slot *b) {
    int c = q->cmp(a->item, b->item);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

static int grow(conc_aqueue_t *q) {
    size_t cap = q->cap ? q->cap * 2 : 16;
    struct slot *b = malloc(cap * sizeof *b);
    if (!b) return -ENOMEM;
    for (size_t i = 0; i < q->n; i++)
        b[i] = q->buf[q->kind == CONC_AQUEUE_PRIORITY ? i : (q->head + i) % q->cap];
    free(q->buf);
    q->buf = b;
    q->cap = cap;
    q->head = 0;
    return 0;
}

/* Store an item (room and memory checked by the caller). */
static void store(conc_aqueue_t *q, void *item) {
    struct slot s = {item, q->seq++};
    if (q->kind != CONC_AQUEUE_PRIORITY) {
        q->buf[(q->head + q->n++) % q->cap] = s;
        return;
    }
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(q, &s, &q->buf[parent])) break;
        q->buf[i] = q->buf[parent];
        i = parent;
    }
    q->buf[i] = s;
}

static void *take(conc_aqueue_t *q) {
    if (q->kind == CONC_AQUEUE_FIFO) {
        void *it = q->buf[q->head].item;
        q->head = (q->head + 1) % q->cap;
        q->n--;
        return it;
    }
    if (q->kind == CONC_AQUEUE_LIFO) return q->buf[(q->head + --q->n) % q->cap].item;
    void *it = q->buf[0].item;
    struct slot last = q->buf[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n) break;
        if (c + 1 < q->n && before(q, &q->buf[c + 1], &q->buf[c])) c++;
        if (!before(q, &q->buf[c], &last)) break;
        q->buf[i] = q->buf[c];
        i = c;
    }
    if (q->n > 0) q->buf[i] = last;
    return it;
}

int conc_aqueue_put(conc_aqueue_t *q, void *item, double timeout) {
    if (!q) return -EINVAL;
    if (!conc__task_running) return -EPERM;
    if (conc__aw_any(&q->getters)) { /* the queue is empty and someone waits: hand it over */
        q->unfinished++;
        conc__aw_grant(&q->getters, item);
        return 0;
    }
    if (!conc_aqueue_full(q) && !conc__aw_any(&q->putters)) {
        if (q->n == q->cap && grow(q) < 0) return -ENOMEM;
        store(q, item);
        q->unfinished++;
        return 0;
    }
    if (timeout == 0) return -ETIMEDOUT;
    struct conc__aw w;
    conc__aw_push(&q->putters, &w);
    w.item = item;
    return conc__aw_wait(&w, timeout); /* 0: a get moved our item in (and counted it) */
}

/* After a get made room: move the first waiting putter's item in. */
static void admit_putter(conc_aqueue_t *q) {
    struct conc__aw *w = q->putters.head;
    if (!w || conc_aqueue_full(q)) return;
    if (q->n == q->cap && grow(q) < 0) return; /* it keeps waiting; the next get retries */
    store(q, w->item);
    q->unfinished++;
    conc__aw_grant(&q->putters, w->item);
}

int conc_aqueue_get(conc_aqueue_t *q, void **item, double timeout) {
    if (!q || !item) return -EINVAL;
    if (!conc__task_running) return -EPERM;
    if (q->n > 0) {
        *item = take(q);
        admit_putter(q);
        return 0;
    }
    if (timeout == 0) return -ETIMEDOUT;
    struct conc__aw w;
    conc__aw_push(&q->getters, &w);
    int r = conc__aw_wait(&w, timeout);
    if (r == 0) *item = w.item;
    return r;
}

int conc_aqueue_task_done(conc_aqueue_t *q) {
    if (!q) return -EINVAL;
    if (q->unfinished == 0) return -EOVERFLOW;
    if (--q->unfinished == 0)
        while (conc__aw_grant(&q->joiners, NULL)) {
        }
    return 0;
}

int conc_aqueue_join(conc_aqueue_t *q, double timeout) {
    if (!q) return -EINVAL;
    if (!conc__task_running) return -EPERM;
    if (q->unfinished == 0) return 0;
    if (timeout == 0) return -ETIMEDOUT;
    struct conc__aw w;
    conc__aw_push(&q->joiners, &w);
    return conc__aw_wait(&w, timeout);
}
