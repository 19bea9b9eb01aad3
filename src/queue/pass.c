/* Handing a Queue to a child (see internal/pass.h): the memory file and the eventfd travel as fds,
 * the mapping's size as bytes. The child maps the same file, so it is the same queue, whatever
 * happens to the parent afterwards. Its close flag starts clear: closing is per process. */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../internal/queue.h"

struct wire {
    uint64_t map_bytes;
};

static int queue_export(void *obj, int *fds, size_t *nfds, void *buf, size_t *len) {
    conc_queue_t *q = obj;
    if (!q || *nfds < 2 || *len < sizeof(struct wire)) return -EINVAL;
    struct wire w = {q->map_bytes};
    fds[0] = q->memfd;
    fds[1] = q->efd;
    *nfds = 2;
    memcpy(buf, &w, sizeof w);
    *len = sizeof w;
    return 0;
}

static void *queue_import(const int *fds, size_t nfds, const void *buf, size_t len) {
    struct wire w;
    conc_queue_t *q = NULL;
    if (nfds == 2 && len == sizeof w) {
        memcpy(&w, buf, sizeof w);
        struct stat st;
        /* never map past the end of the file: that would be SIGBUS on first touch */
        if (fstat(fds[0], &st) == 0 && (uint64_t)st.st_size >= w.map_bytes &&
            w.map_bytes <= SIZE_MAX && conc__queue_map(&q, fds[0], fds[1], (size_t)w.map_bytes) < 0)
            q = NULL;
    }
    if (!q)
        for (size_t i = 0; i < nfds; i++) close(fds[i]);
    return q;
}

CONC_HIDDEN const conc__passer_t conc__queue_passer = {CONC_OBJ_KIND_QUEUE, queue_export,
                                                       queue_import};
