/* conc/shm.h - multiprocessing.shared_memory.SharedMemory, with explicit ownership: the creator
 * owns the name; attaching never unlinks; a resource tracker unlinks what a dead creator left.
 *
 * Names: with or without the leading '/', no other '/', at most 253 bytes (-EINVAL,
 * -ENAMETOOLONG); a NULL name gets "conc_<pid>_<16 hex digits>". Segments are 0600. The creating
 * process's tracker (a small process forked on its first create) unlinks, silently, every segment
 * the creator made and did not unlink once the creator is gone - killed, or exited normally
 * (CPython does the same but warns). So a segment never outlives its creator; hand it to the
 * processes that need it while the creator lives. Unlinking (by the creator or any attacher)
 * removes the name only while it still names this segment (-ENOENT otherwise); mappings stay
 * valid until closed. Attaching to a segment of size 0 (not yet sized by its creator) is -EINVAL. */
#ifndef CONC_SHM_H
#define CONC_SHM_H

#include <stddef.h>
#include "conc/error.h"
#include "conc/process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NULL name: generated; -EEXIST; size 0 is -EINVAL */
CONC_API int conc_shm_create(conc_shm_t **s, const char *name, size_t size);
CONC_API int conc_shm_attach(conc_shm_t **s, const char *name); /* -ENOENT */
CONC_API void *conc_shm_buf(conc_shm_t *s);
CONC_API size_t conc_shm_size(conc_shm_t *s);
CONC_API const char *conc_shm_name(conc_shm_t *s); /* without the leading '/' */
CONC_API int conc_shm_unlink(conc_shm_t *s);
CONC_API void conc_shm_close(conc_shm_t *s); /* unmaps; never unlinks */

#ifdef __cplusplus
}
#endif
#endif
