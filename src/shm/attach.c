/* conc_shm_attach: open an existing segment by name and map all of it. Attaching registers nothing
 * and never unlinks (CPython's tracker unlinked segments under their creator when an attaching
 * process exited: gh-82300). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../internal/shm.h"

int conc_shm_attach(conc_shm_t **out, const char *name) {
    if (!out) return -EINVAL;
    char nm[CONC__SHM_NAME_MAX + 1], path[CONC__SHM_NAME_MAX + 2];
    int r = conc__shm_check_name(name, nm);
    if (r < 0) return r;
    snprintf(path, sizeof path, "/%s", nm);
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) r = -errno;
    /* size 0: the creator has not sized it yet (or never will); there is nothing to map */
    else if (st.st_size <= 0)
        r = -EINVAL;
    if (r == 0) r = conc__shm_map(out, fd, &st, (size_t)st.st_size, nm);
    if (r < 0) close(fd);
    return r;
}
