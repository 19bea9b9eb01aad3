/* conc/bytes.h - a byte string: what executors and managers carry (conc_bytes_t of API.md). Its own
 * header so every module that takes or returns bytes shares the one definition. */
#ifndef CONC_BYTES_H
#define CONC_BYTES_H

#include <stddef.h>

typedef struct {
    void *data;
    size_t len;
} conc_bytes_t;

#endif
