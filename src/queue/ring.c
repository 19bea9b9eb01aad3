/* Moving bytes in and out of a Queue: the ring (mapped, wrapping at its end) and the spill area
 * (the same memory file far past the ring, reached with pread/pwrite so that no process has to
 * map a message it is not handling). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "../internal/queue.h"

void conc__queue_copy_in(conc_queue_t *q, uint64_t pos, const void *src, size_t n) {
    if (n == 0) return; /* src may be NULL then: an empty message */
    size_t size = (size_t)q->units * 8, off = (size_t)(pos & (size - 1));
    size_t first = n < size - off ? n : size - off;
    memcpy(q->ring + off, src, first);
    if (n > first) memcpy(q->ring, (const char *)src + first, n - first);
}

void conc__queue_copy_out(conc_queue_t *q, uint64_t pos, void *dst, size_t n) {
    size_t size = (size_t)q->units * 8, off = (size_t)(pos & (size - 1));
    size_t first = n < size - off ? n : size - off;
    memcpy(dst, q->ring + off, first);
    if (n > first) memcpy((char *)dst + first, q->ring, n - first);
}

int conc__queue_pio(int fd, void *buf, size_t n, uint64_t off, bool write) {
    char *p = buf;
    while (n) {
        ssize_t k = write ? pwrite(fd, p, n, (off_t)off) : pread(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -errno;
        if (k == 0) return CONC_EPROTO; /* read past the end: the spill was never written */
        p += k;
        off += (uint64_t)k;
        n -= (size_t)k;
    }
    return 0;
}
