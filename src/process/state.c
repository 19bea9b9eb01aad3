/* What this process is: the main process, or a child with a name, an identity and the objects its
 * parent handed it (multiprocessing.current_process() and the child half of Process._bootstrap).
 *
 * The identity is Python's _identity tuple written "1:2": the second child of the first child. A
 * default name is "Process-" + identity, so names stay unique across a tree of processes, and a
 * child numbers its own children from 1 again. */
#include <string.h>
#include "proc.h"
#include "../internal/pass.h"

int conc__proc_initialised;
int conc__proc_daemonic;
int conc__proc_argc;
char **conc__proc_argv;

static const char *identity = "";
static const char *name = "MainProcess";
static uint32_t counter;
static const conc_obj_t *passed;
static size_t n_passed;

const char *conc__proc_identity(void) {
    return identity;
}

void conc__proc_set_self(const char *ident, const char *nm, bool daemon) {
    identity = ident;
    name = nm;
    conc__proc_daemonic = daemon;
    __atomic_store_n(&counter, 0, __ATOMIC_RELAXED);
}

uint32_t conc__proc_next_number(void) {
    return __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
}

const char *conc_process_current_name(void) {
    return name;
}

void conc__proc_set_passed(const conc_obj_t *objs, size_t n) {
    passed = objs;
    n_passed = n;
}

void *conc__passed_obj(size_t i, int kind) {
    if (i >= n_passed || passed[i].kind != kind) return NULL;
    return passed[i].obj;
}

conc_conn_t *conc_passed_conn(size_t i) {
    return conc__passed_obj(i, CONC_OBJ_KIND_CONN);
}

conc_queue_t *conc_passed_queue(size_t i) {
    return conc__passed_obj(i, CONC_OBJ_KIND_QUEUE);
}

conc_shm_t *conc_passed_shm(size_t i) {
    return conc__passed_obj(i, CONC_OBJ_KIND_SHM);
}
