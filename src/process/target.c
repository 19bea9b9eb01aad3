/* The target registry: name -> function, so that a spawned child (a fresh exec of the same binary)
 * finds the function the parent named. CONC_TARGET fills it from constructors, before main, so
 * parent and child hold the same table; conc_target_register may also be called by hand (before
 * conc_init, for a spawned child to see it too).
 *
 * A growable array under a mutex: registration is rare and lookups happen once per start, so
 * nothing cleverer pays. The atfork handlers hold the lock across fork(), so a fork child never
 * inherits it locked. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "proc.h"

#define TARGET_NAME_MAX 255

struct entry {
    char *name;
    conc_target_fn fn;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static size_t count, cap;

static struct entry *find_locked(const char *name) {
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

static int add_locked(const char *name, conc_target_fn fn) {
    if (find_locked(name)) return -EEXIST;
    if (count == cap) {
        size_t ncap = cap ? cap * 2 : 32;
        struct entry *t = realloc(table, ncap * sizeof *t);
        if (!t) return -ENOMEM;
        table = t;
        cap = ncap;
    }
    char *copy = strdup(name);
    if (!copy) return -ENOMEM;
    table[count].name = copy;
    table[count].fn = fn;
    count++;
    return 0;
}

int conc_target_register(const char *name, conc_target_fn fn) {
    if (!name || !*name || !fn || strlen(name) > TARGET_NAME_MAX) return -EINVAL;
    pthread_mutex_lock(&lock);
    int r = add_locked(name, fn);
    pthread_mutex_unlock(&lock);
    return r;
}

conc_target_fn conc__target_find(const char *name) {
    pthread_mutex_lock(&lock);
    struct entry *e = find_locked(name);
    conc_target_fn fn = e ? e->fn : NULL;
    pthread_mutex_unlock(&lock);
    return fn;
}

static void before_fork(void) {
    pthread_mutex_lock(&lock);
}

static void after_fork(void) {
    pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void target_init(void) {
    /* The child unlocks too (the forking thread took the lock; a default mutex does not check the
     * owner): re-initialising it instead would leave TSan believing it held forever. */
    pthread_atfork(before_fork, after_fork, after_fork);
}
