/* SharedMemory objects: names, mapping, the accessors and close.
 *
 * Ownership is explicit (CPython's pain point, gh-82300): the process that creates a segment owns
 * its name. Attaching never registers it anywhere and never unlinks it; only conc_shm_unlink, or the
 * creator's resource tracker after the creator is gone (shm/tracker.c), removes the name. close()
 * only unmaps, as in Python. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../internal/shm.h"

int conc__shm_check_name(const char *name, char *out) {
    if (!name) return -EINVAL;
    if (name[0] == '/') name++;
    size_t n = strlen(name);
    if (n == 0 || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) return -EINVAL;
    if (n > CONC__SHM_NAME_MAX) return -ENAMETOOLONG;
    memcpy(out, name, n + 1);
    return 0;
}

int conc__shm_map(conc_shm_t **out, int fd, const struct stat *st, size_t size, const char *name) {
    conc_shm_t *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s->buf == MAP_FAILED) {
        int e = -errno;
        free(s);
        return e;
    }
    s->size = size;
    s->fd = fd;
    s->dev = (uint64_t)st->st_dev;
    s->ino = (uint64_t)st->st_ino;
    strcpy(s->name, name);
    *out = s;
    return 0;
}

void *conc_shm_buf(conc_shm_t *s) {
    return s ? s->buf : NULL;
}

size_t conc_shm_size(conc_shm_t *s) {
    return s ? s->size : 0;
}

const char *conc_shm_name(conc_shm_t *s) {
    return s ? s->name : NULL;
}

void conc_shm_close(conc_shm_t *s) {
    if (!s) return;
    munmap(s->buf, s->size);
    close(s->fd);
    free(s);
}
