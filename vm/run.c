/* Running a program: conc_vm_run, and the threads a program starts with `spawn` / `join`.
 *
 * A VM thread is a conc thread (conc_thread_start) that takes the GIL, interprets its function
 * and releases the GIL; joining releases the GIL while it waits, or the thread being joined could
 * never get it to finish. The table of thread handles belongs to the run and is only touched by
 * threads holding the GIL, so it needs no lock of its own: exactly what the GIL is for.
 *
 * A runtime error in a spawned thread ends that thread (join then gives 0) and is remembered; the
 * run reports the first such error when it ends, as Python prints a thread's exception. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vm_int.h"

static void *thread_main(void *arg) {
    vm_thread_t *t = arg;
    conc_gil_acquire(t->run->gil);
    vm_exec(t);
    if (t->failed && !t->run->failed) {
        t->run->failed = true;
        memcpy(t->run->err, t->err, sizeof t->err);
    }
    conc_gil_release(t->run->gil);
    return NULL;
}

int vm_spawn(vm_thread_t *t, uint32_t fn, const int64_t *args, int64_t *handle) {
    vm_run_t *run = t->run;
    if (run->nthreads == run->capthreads) {
        size_t cap = run->capthreads ? run->capthreads * 2 : 16;
        vm_thread_t **q = cap > 1000000 ? NULL : realloc(run->threads, cap * sizeof *q);
        if (!q) {
            snprintf(t->err, sizeof t->err, "too many threads");
            return -1;
        }
        run->threads = q;
        run->capthreads = cap;
    }
    vm_thread_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(t->err, sizeof t->err, "out of memory");
        return -1;
    }
    c->run = run;
    c->fn = fn;
    memcpy(c->args, args, run->prog->funcs[fn].nargs * sizeof *args);
    int r = conc_thread_start(&c->thread, thread_main, c, NULL);
    if (r != 0) {
        free(c);
        snprintf(t->err, sizeof t->err, "cannot start a thread: %s", strerror(-r));
        return -1;
    }
    run->threads[run->nthreads++] = c;
    *handle = (int64_t)run->nthreads;
    return 0;
}

/* Wait for c with the GIL released; the caller holds it before and after. */
static int wait_for(vm_thread_t *c) {
    int r;
    CONC_GIL_BEGIN_ALLOW_THREADS(c->run->gil)
    do r = conc_thread_join(c->thread, -1, NULL);
    while (r == -EINTR);
    CONC_GIL_END_ALLOW_THREADS(c->run->gil)
    c->joined = true;
    return r;
}

int vm_join(vm_thread_t *t, int64_t handle, int64_t *result) {
    vm_run_t *run = t->run;
    if (handle < 1 || (uint64_t)handle > run->nthreads) {
        snprintf(t->err, sizeof t->err, "join: %lld is not a thread handle", (long long)handle);
        return -1;
    }
    vm_thread_t *c = run->threads[handle - 1];
    if (c->joined) {
        snprintf(t->err, sizeof t->err, "join: thread %lld was already joined", (long long)handle);
        return -1;
    }
    if (c == t) { /* cannot happen: a thread never sees its own handle before it exists */
        snprintf(t->err, sizeof t->err, "join: a thread cannot join itself");
        return -1;
    }
    int r = wait_for(c);
    if (r != 0) {
        snprintf(t->err, sizeof t->err, "join: %s", strerror(-r));
        return -1;
    }
    *result = c->failed ? 0 : c->result;
    return 0;
}

/* Threads may spawn threads while we join: loop until every handle is joined. */
void vm_join_all(vm_run_t *run) {
    for (size_t i = 0; i < run->nthreads; i++)
        if (!run->threads[i]->joined) wait_for(run->threads[i]);
}

int conc_vm_run(const conc_vm_prog_t *p, const char *fn, const int64_t *args, size_t nargs,
                const conc_vm_opts_t *opts, int64_t *result, char *err, size_t errlen) {
    if (errlen) err[0] = 0;
    if (!p || !fn || (nargs && !args)) {
        if (errlen) snprintf(err, errlen, "conc_vm_run: bad arguments");
        return -EINVAL;
    }
    int arity = conc_vm_arity(p, fn);
    if (arity < 0) {
        if (errlen) snprintf(err, errlen, "%s: no function '%s'", p->name, fn);
        return -ENOENT;
    }
    if ((size_t)arity != nargs) {
        if (errlen)
            snprintf(err, errlen, "%s: '%s' takes %d argument%s, not %zu", p->name, fn, arity,
                     arity == 1 ? "" : "s", nargs);
        return -EINVAL;
    }
    conc_gil_t own;
    vm_run_t run = {.prog = p, .gil = opts ? opts->gil : NULL, .out = opts ? opts->out : NULL};
    if (!run.gil) {
        conc_gil_init(&own, NULL);
        run.gil = &own;
    }
    if (!run.out) run.out = stdout;
    vm_thread_t *t = calloc(1, sizeof *t);
    if (!t) {
        if (!opts || !opts->gil) conc_gil_destroy(&own);
        if (errlen) snprintf(err, errlen, "%s: out of memory", p->name);
        return -ENOMEM;
    }
    t->run = &run;
    for (uint32_t i = 0; i < p->nfuncs; i++)
        if (!strcmp(p->funcs[i].name, fn)) t->fn = i;
    if (nargs) memcpy(t->args, args, nargs * sizeof *args);

    conc_gil_acquire(run.gil);
    vm_exec(t);
    vm_join_all(&run);
    conc_gil_release(run.gil);

    int rc = 0;
    const char *msg = t->failed ? t->err : run.failed ? run.err : NULL;
    if (msg) {
        if (errlen) snprintf(err, errlen, "%s", msg);
        rc = -EINVAL;
    } else if (result) {
        *result = t->result;
    }
    for (size_t i = 0; i < run.nthreads; i++) {
        conc_thread_release(run.threads[i]->thread);
        free(run.threads[i]);
    }
    free(run.threads);
    free(t);
    if (run.gil == &own) conc_gil_destroy(&own);
    return rc;
}
