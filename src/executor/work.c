/* The work registry: CONC_WORK name <-> function, so that a process or MPI worker - the same
 * binary, started by fork, spawn, forkserver or mpirun - runs the function the submitter named.
 *
 * Filled by constructors before main, so every process of the program holds the same table. Both
 * directions are looked up: by function at each submit (the name travels), by name in the
 * worker. A small array under a mutex; the last function found is remembered, so a stream of
 * submits of one function costs one comparison. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "executor.h"

#define WORK_NAME_MAX 255

struct entry {
    char *name;
    conc_work_fn fn;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static size_t count, cap;
static size_t last; /* index of the last hit, under the lock */

int conc_work_register(const char *name, conc_work_fn fn) {
    if (!name || !*name || !fn || strlen(name) > WORK_NAME_MAX) return -EINVAL;
    int r = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(table[i].name, name) == 0) {
            r = table[i].fn == fn ? 0 : -EEXIST;
            goto out;
        }
    }
    if (count == cap) {
        size_t ncap = cap ? cap * 2 : 32;
        struct entry *t = realloc(table, ncap * sizeof *t);
        if (!t) {
            r = -ENOMEM;
            goto out;
        }
        table = t;
        cap = ncap;
    }
    char *copy = strdup(name);
    if (!copy) {
        r = -ENOMEM;
        goto out;
    }
    table[count].name = copy;
    table[count].fn = fn;
    count++;
out:
    pthread_mutex_unlock(&lock);
    return r;
}

conc_work_fn conc_work_find(const char *name) {
    if (!name) return NULL;
    conc_work_fn fn = NULL;
    pthread_mutex_lock(&lock);
    if (last < count && strcmp(table[last].name, name) == 0) {
        fn = table[last].fn;
    } else {
        for (size_t i = 0; i < count; i++) {
            if (strcmp(table[i].name, name) == 0) {
                fn = table[i].fn;
                last = i;
                break;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return fn;
}

/* Names are never freed or moved (the table grows by realloc of the entries, not of the
 * strings), so the pointer stays valid. */
const char *conc_work_name(conc_work_fn fn) {
    if (!fn) return NULL;
    const char *name = NULL;
    pthread_mutex_lock(&lock);
    if (last < count && table[last].fn == fn) {
        name = table[last].name;
    } else {
        for (size_t i = 0; i < count; i++) {
            if (table[i].fn == fn) {
                name = table[i].name;
                last = i;
                break;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return name;
}

static void before_fork(void) {
    pthread_mutex_lock(&lock);
}

static void after_fork(void) {
    pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void work_init(void) {
    pthread_atfork(before_fork, after_fork, after_fork);
}
