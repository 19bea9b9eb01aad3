/* Creating, mapping and freeing a Queue (closing: wake.c) (the layout is in internal/queue.h).
 *
 * The ring lives in a memfd rather than a named shm segment: nothing in /dev/shm to leak when a
 * process dies, and the fd is what travels to a spawned or forkserver child (SCM_RIGHTS), so the
 * queue exists exactly as long as some process holds it. The eventfd beside it serves conc_wait. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include "../internal/queue.h"

/* Here, beside conc_queue_new, so that any program that makes queues links the passer (from a
 * static library too), and a spawned or forkserver child - the same program - has it as well. */
__attribute__((constructor)) static void queue_passer_init(void) {
    conc__passer_register(&conc__queue_passer);
}

int conc__queue_map(conc_queue_t **qp, int memfd, int efd, size_t map_bytes) {
    if (map_bytes < CONC__Q_HDR_BYTES + CONC__Q_MIN_RING ||
        map_bytes > CONC__Q_HDR_BYTES + CONC__Q_MAX_RING)
        return -EINVAL;
    uint64_t units = (map_bytes - CONC__Q_HDR_BYTES) / 8;
    if (units & (units - 1)) return -EINVAL;
    conc_queue_t *q = calloc(1, sizeof *q);
    if (!q) return -ENOMEM;
    void *m = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (m == MAP_FAILED) {
        int e = -errno;
        free(q);
        return e;
    }
    struct conc__qhdr *h = m;
    if (conc__load(&h->magic) != CONC__Q_MAGIC || h->units != units) {
        munmap(m, map_bytes);
        free(q);
        return -EINVAL;
    }
    q->h = h;
    q->ring = (unsigned char *)m + CONC__Q_HDR_BYTES;
    q->map_bytes = map_bytes;
    q->units = units;
    q->maxsize = h->maxsize;
    q->spill_min = (size_t)units; /* an eighth of the ring's bytes */
    q->memfd = memfd;
    q->efd = efd;
    *qp = q;
    return 0;
}

int conc_queue_new(conc_queue_t **qp, const conc_queue_opts_t *opts) {
    if (!qp) return -EINVAL;
    *qp = NULL;
    static const conc_queue_opts_t none;
    if (!opts) opts = &none;
    size_t want = opts->ring_bytes ? opts->ring_bytes : CONC__Q_DEFAULT_RING;
    if (want > CONC__Q_MAX_RING) return -EINVAL;
    size_t ring = CONC__Q_MIN_RING;
    while (ring < want) ring <<= 1;
    size_t map_bytes = CONC__Q_HDR_BYTES + ring;

    int memfd = memfd_create("conc-queue", MFD_CLOEXEC);
    if (memfd < 0) return -errno;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        int e = -errno;
        close(memfd);
        return e;
    }
    struct conc__qhdr h;
    memset(&h, 0, sizeof h);
    h.magic = CONC__Q_MAGIC;
    h.units = ring / 8;
    /* more than the ring can ever hold is no limit at all (and keeps counts within 28 bits) */
    h.maxsize = opts->maxsize < h.units ? opts->maxsize : 0;
    h.joinable = opts->joinable;
    conc_lock_init(&h.plock, CONC_PSHARED);
    conc_lock_init(&h.glock, CONC_PSHARED);
    int r = 0;
    if (ftruncate(memfd, (off_t)map_bytes) < 0 ||
        pwrite(memfd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        r = -errno;
    if (r == 0) r = conc__queue_map(qp, memfd, efd, map_bytes);
    if (r < 0) {
        close(memfd);
        close(efd);
    }
    return r;
}

void conc_queue_free(conc_queue_t *q) {
    if (!q) return;
    munmap(q->h, q->map_bytes);
    close(q->memfd);
    close(q->efd);
    free(q);
}
