/* conc_shm_create: shm_open(O_CREAT | O_EXCL), size, map, and register with the tracker.
 *
 * A NULL name gets "conc_<pid>_<16 random hex digits>", retried on the (unlikely) collision. The name
 * is registered right after shm_open and before anything else can fail, so the window in which a
 * SIGKILL leaks the segment is a few instructions wide. If the tracker cannot be started, create
 * fails: an untracked segment would break the promise that a dead creator leaves nothing behind. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../internal/shm.h"

static void generate(char *name) {
    unsigned long long r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r) {
        static unsigned long long seq;
        r = (unsigned long long)__atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED) *
                0x9e3779b97f4a7c15ULL ^
            (unsigned long long)(uintptr_t)&r;
    }
    snprintf(name, CONC__SHM_NAME_MAX + 1, "conc_%d_%016llx", (int)conc__self_pid(), r);
}

int conc_shm_create(conc_shm_t **out, const char *name, size_t size) {
    if (!out || size == 0 || size > (size_t)INT64_MAX) return -EINVAL;
    char nm[CONC__SHM_NAME_MAX + 1], path[CONC__SHM_NAME_MAX + 2];
    int fd = -1;
    for (int attempt = 0; fd < 0; attempt++) {
        if (name) {
            int r = conc__shm_check_name(name, nm);
            if (r < 0) return r;
        } else {
            generate(nm);
        }
        snprintf(path, sizeof path, "/%s", nm);
        fd = shm_open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
        if (fd < 0 && (name || errno != EEXIST || attempt >= 100)) return -errno;
    }
    conc_shm_t tmp = {0};
    struct stat st;
    int r = fstat(fd, &st) < 0 ? -errno : 0;
    if (r == 0) {
        tmp.dev = (uint64_t)st.st_dev;
        tmp.ino = (uint64_t)st.st_ino;
        snprintf(tmp.name, sizeof tmp.name, "%s", nm);
        r = conc__shm_track('+', &tmp);
    }
    bool tracked = r == 0;
    if (r == 0 && ftruncate(fd, (off_t)size) < 0) r = -errno;
    conc_shm_t *s = NULL;
    if (r == 0) r = conc__shm_map(&s, fd, &st, size, nm);
    if (r < 0) {
        shm_unlink(path);
        if (tracked) conc__shm_track('-', &tmp);
        close(fd);
        return r;
    }
    s->creator = conc__self_pid();
    *out = s;
    return 0;
}
