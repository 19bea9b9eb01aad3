/* conc_shm_unlink: remove the name (any holder may; the mapping stays valid everywhere) and tell the
 * creator's tracker. The name is removed only while it still names this segment: if it was
 * unlinked and then reused for another segment, that one is left alone (-ENOENT). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../internal/shm.h"

int conc_shm_unlink(conc_shm_t *s) {
    if (!s) return -EINVAL;
    char path[CONC__SHM_NAME_MAX + 2];
    snprintf(path, sizeof path, "/%s", s->name);
    int r = 0;
    int fd = shm_open(path, O_RDONLY, 0);
    struct stat st;
    if (fd < 0)
        r = -errno;
    else if (fstat(fd, &st) < 0)
        r = -errno;
    else if ((uint64_t)st.st_dev != s->dev || (uint64_t)st.st_ino != s->ino)
        r = -ENOENT;
    if (fd >= 0) close(fd);
    if (r == 0 && shm_unlink(path) < 0) r = -errno;
    if (s->creator == conc__self_pid() && !__atomic_exchange_n(&s->untracked, 1, __ATOMIC_ACQ_REL))
        conc__shm_track('-', s);
    return r;
}
