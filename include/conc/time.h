/* conc/time.h - the monotonic clock and deadlines.
 *
 * Timeouts are double seconds, as in Python: a negative value (CONC_FOREVER) waits forever, 0 polls
 * once. Internally every blocking call turns its timeout into an absolute deadline once, so retries
 * after a spurious wake-up never stretch the wait. */
#ifndef CONC_TIME_H
#define CONC_TIME_H

#include <stdbool.h>
#include "conc/error.h"

#define CONC_FOREVER (-1.0)

#ifdef __cplusplus
extern "C" {
#endif

/* CLOCK_MONOTONIC in seconds (time.monotonic()). */
CONC_API double conc_monotonic(void);
/* The absolute deadline for a timeout: now + timeout, or +infinity for a negative timeout. */
CONC_API double conc_deadline(double timeout);
/* Seconds left until deadline: >= 0, or CONC_FOREVER for an infinite deadline. */
CONC_API double conc_deadline_remaining(double deadline);
/* True once the deadline has passed (never for an infinite one). */
CONC_API bool conc_deadline_expired(double deadline);

#ifdef __cplusplus
}
#endif
#endif
