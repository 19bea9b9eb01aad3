/* conc/bound.h - is this work CPU-bound or IO-bound? Measure it and say why.
 *
 * The same measurement backs `conc bound -- CMD` (a child process) and conc_bound_measure (a
 * function in this process). */
#ifndef CONC_BOUND_H
#define CONC_BOUND_H

#include <stdint.h>
#include <stdio.h>
#include "conc/error.h"

typedef enum { CONC_BOUND_CPU = 1, CONC_BOUND_IO = 2, CONC_BOUND_MIXED = 3 } conc_bound_verdict_t;

typedef struct {
    double wall;           /* seconds */
    double user, sys;      /* CPU seconds */
    double utilisation;    /* (user + sys) / wall: 2.0 means two cores busy all the time */
    unsigned peak_threads; /* most threads seen at once */
    uint64_t voluntary_switches, involuntary_switches;
    uint64_t bytes_read, bytes_written; /* through read/write-family calls (rchar/wchar) */
    int exit_status;                    /* the command's: >= 0 status, -signo if killed */
    conc_bound_verdict_t verdict;
    char reason[160]; /* one line: why the verdict */
} conc_bound_report_t;

#ifdef __cplusplus
extern "C" {
#endif

/* Run fn(arg) in this thread and measure the whole process while it runs (threads fn starts count). */
CONC_API int conc_bound_measure(void (*fn)(void *), void *arg, conc_bound_report_t *out);
/* Run argv[0] with argv, wait for it and measure it. -ENOENT if it cannot be found. */
CONC_API int conc_bound_run(char *const argv[], conc_bound_report_t *out);
/* Fill in verdict and reason from the measured fields. */
CONC_API void conc_bound_classify(conc_bound_report_t *r);
CONC_API const char *conc_bound_verdict_name(conc_bound_verdict_t v); /* "CPU-bound", ... */
/* Print the report as a table, or as one JSON object. */
CONC_API void conc_bound_print(FILE *out, const conc_bound_report_t *r, int json);

#ifdef __cplusplus
}
#endif
#endif
