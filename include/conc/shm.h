/* conc/shm.h - multiprocessing.shared_memory.SharedMemory, with explicit ownership: the creator
 * owns the name; attaching never unlinks; a resource tracker unlinks what a dead creator left. */
#ifndef CONC_SHM_H
#define CONC_SHM_H

#include <stddef.h>
#include "conc/error.h"
#include "conc/process.h"

#ifdef __cplusplus
extern "C" {
#endif

CONC_API int conc_shm_create(conc_shm_t **s, const char *name,
                             size_t size);                      /* NULL name: generated; -EEXIST */
CONC_API int conc_shm_attach(conc_shm_t **s, const char *name); /* -ENOENT */
CONC_API void *conc_shm_buf(conc_shm_t *s);
CONC_API size_t conc_shm_size(conc_shm_t *s);
CONC_API const char *conc_shm_name(conc_shm_t *s); /* without the leading '/' */
CONC_API int conc_shm_unlink(conc_shm_t *s);
CONC_API void conc_shm_close(conc_shm_t *s);

#ifdef __cplusplus
}
#endif
#endif
