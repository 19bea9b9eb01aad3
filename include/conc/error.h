/* conc/error.h - error codes shared by every module.
 *
 * Functions that can fail return 0 (or a documented non-negative value) on success and a negative
 * code on failure: a negated errno value, or one of the library's own codes below, which sit under
 * -4000 so they never collide with errno. */
#ifndef CONC_ERROR_H
#define CONC_ERROR_H

#include <errno.h>

#if defined(__GNUC__)
#define CONC_API __attribute__((visibility("default")))
#else
#define CONC_API
#endif

#define CONC_EBROKEN (-4001) /* broken barrier, broken pool */
#define CONC_ECLOSED (-4002) /* queue or connection closed, or the peer is gone */
#define CONC_EAUTH   (-4003) /* authentication failed */
#define CONC_EOWNERDEAD                                                                            \
    (-4004) /* acquired a process-shared lock whose previous owner died holding it */
#define CONC_EPROTO (-4005) /* malformed message on a wire */

#ifdef __cplusplus
extern "C" {
#endif

/* A sentence describing err ("Connection timed out", "barrier is broken"). Never NULL. */
CONC_API const char *conc_strerror(int err);
/* The symbolic name ("ETIMEDOUT", "CONC_EBROKEN"); "UNKNOWN" for a code that is neither. */
CONC_API const char *conc_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
