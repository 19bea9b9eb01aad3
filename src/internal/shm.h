/* The SharedMemory object and the resource tracker's record, shared by the shm module's files. */
#ifndef CONC_INTERNAL_SHM_H
#define CONC_INTERNAL_SHM_H

#include <stdint.h>
#include <sys/types.h>
#include "conc/shm.h"
#include "base.h"

/* glibc's shm_open accepts names (without the slash) of up to NAME_MAX - 2 bytes. */
#define CONC__SHM_NAME_MAX 253

struct conc_shm {
    void *buf;
    size_t size;
    int fd;             /* kept open: a passed segment travels as this fd */
    pid_t creator;      /* the pid that created it here and registered it with its tracker, or 0 */
    uint32_t untracked; /* atomic: the tracker was told the name is gone */
    uint64_t dev, ino;  /* identify the segment behind the name, which may be reused */
    char name[CONC__SHM_NAME_MAX + 1];
};

/* One record to the tracker: '+' a name this process created, '-' a name it unlinked. Fixed size,
 * one SOCK_SEQPACKET message each, so concurrent writers never interleave. */
struct conc__shm_rec {
    uint64_t dev, ino;
    char op;
    char name[CONC__SHM_NAME_MAX + 1];
};

/* 0, or -EINVAL / -ENAMETOOLONG; copies name without its leading '/' into out. */
CONC_HIDDEN int conc__shm_check_name(const char *name, char *out);
/* Map fd (size bytes; st from fstat) into a new object named name; takes the fd over on success. */
struct stat;
CONC_HIDDEN int conc__shm_map(conc_shm_t **out, int fd, const struct stat *st, size_t size,
                              const char *name);
/* Tell this process's tracker about s ('+' starts the tracker on first use; '-' never does). */
CONC_HIDDEN int conc__shm_track(char op, const conc_shm_t *s);
/* This process's tracker, 0 if none is running (for tests). */
CONC_HIDDEN pid_t conc__shm_tracker_pid(void);
/* The tracker process's whole life (shm/tracker_main.c): never returns. */
CONC_HIDDEN void conc__shm_tracker_main(int sock) __attribute__((noreturn));

/* The passer for this kind (internal/pass.h), registered with the process module. */
#include "pass.h"
CONC_HIDDEN extern const conc__passer_t conc__shm_passer;

#endif
