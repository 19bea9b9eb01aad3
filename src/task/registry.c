/* Which futures are tasks' futures. Cancelling what a task awaits must cancel the *task* behind a
 * task's future (a request it may handle; the awaiter then waits for it to finish, bpo-32751),
 * not mark the future cancelled under a task that runs on. The future module knows nothing of
 * tasks, so this side table maps a future to its task: an open-addressing hash with linear probing
 * and backward-shift deletion, behind one futex lock. It is touched twice per task (spawn, end)
 * and once per cancellation of an await. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "../internal/future.h"
#include "../internal/task.h"

static uint32_t lock;
static conc_task_t **table;
static size_t cap, count;

static inline size_t slot_of(const conc_future_t *f, size_t mask) {
    uint64_t h = (uint64_t)(uintptr_t)f;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & mask;
}

static int grow(void) {
    size_t ncap = cap ? cap * 2 : 256;
    conc_task_t **nt = calloc(ncap, sizeof *nt);
    if (!nt) return -ENOMEM;
    for (size_t i = 0; i < cap; i++) {
        conc_task_t *t = table[i];
        if (!t) continue;
        size_t j = slot_of(t->fut, ncap - 1);
        while (nt[j]) j = (j + 1) & (ncap - 1);
        nt[j] = t;
    }
    free(table);
    table = nt;
    cap = ncap;
    return 0;
}

int conc__registry_add(conc_task_t *t) {
    conc__flock(&lock);
    if ((count + 1) * 2 > cap && grow() < 0) {
        conc__funlock(&lock);
        return -ENOMEM;
    }
    size_t j = slot_of(t->fut, cap - 1);
    while (table[j]) j = (j + 1) & (cap - 1);
    table[j] = t;
    count++;
    conc__funlock(&lock);
    return 0;
}

void conc__registry_remove(conc_task_t *t) {
    conc__flock(&lock);
    size_t mask = cap - 1, i = slot_of(t->fut, mask);
    while (table[i] && table[i] != t) i = (i + 1) & mask;
    if (table[i]) {
        /* backward shift: move later members of the probe run into the hole */
        size_t j = i;
        for (;;) {
            j = (j + 1) & mask;
            if (!table[j]) break;
            size_t home = slot_of(table[j]->fut, mask);
            if (((j - home) & mask) >= ((j - i) & mask)) {
                table[i] = table[j];
                i = j;
            }
        }
        table[i] = NULL;
        count--;
    }
    conc__funlock(&lock);
}

conc_task_t *conc__task_of(conc_future_t *f) {
    conc_task_t *found = NULL;
    conc__flock(&lock);
    if (cap) {
        size_t mask = cap - 1, i = slot_of(f, mask);
        while (table[i] && table[i]->fut != f) i = (i + 1) & mask;
        if (table[i]) {
            found = table[i];
            conc__task_retain(found);
        }
    }
    conc__funlock(&lock);
    return found;
}

bool conc__cancel_future(conc_future_t *f) {
    conc_task_t *t = conc__task_of(f);
    if (!t) return conc_future_cancel(f);
    bool r = conc_task_cancel(t);
    conc__task_unref(t);
    return r;
}
