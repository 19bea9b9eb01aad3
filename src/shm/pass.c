/* Handing a SharedMemory segment to a child (see internal/pass.h): the fd of the shm object travels,
 * with the size and the name as bytes. Passing the fd rather than the name means the child maps the
 * very segment the parent holds, even if the name was unlinked (or reused) meanwhile. The child's
 * object is an attachment: it is not the creator, so its exit never unlinks anything. */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../internal/pass.h"
#include "../internal/shm.h"

struct wire {
    uint64_t size;
    char name[CONC__SHM_NAME_MAX + 1];
};

static int shm_export(void *obj, int *fds, size_t *nfds, void *buf, size_t *len) {
    conc_shm_t *s = obj;
    if (!s || *nfds < 1 || *len < sizeof(struct wire)) return -EINVAL;
    struct wire w;
    memset(&w, 0, sizeof w);
    w.size = s->size;
    memcpy(w.name, s->name, sizeof w.name);
    fds[0] = s->fd;
    *nfds = 1;
    memcpy(buf, &w, sizeof w);
    *len = sizeof w;
    return 0;
}

static void *shm_import(const int *fds, size_t nfds, const void *buf, size_t len) {
    struct wire w;
    conc_shm_t *s = NULL;
    if (nfds == 1 && len == sizeof w) {
        memcpy(&w, buf, sizeof w);
        w.name[CONC__SHM_NAME_MAX] = 0;
        struct stat st;
        /* never map past the end of the object: that would be SIGBUS on first touch */
        if (w.size && fstat(fds[0], &st) == 0 && (uint64_t)st.st_size >= w.size &&
            conc__shm_map(&s, fds[0], &st, (size_t)w.size, w.name) < 0)
            s = NULL;
    }
    if (!s)
        for (size_t i = 0; i < nfds; i++) close(fds[i]);
    return s;
}

CONC_HIDDEN const conc__passer_t conc__shm_passer = {CONC_OBJ_KIND_SHM, shm_export, shm_import};
