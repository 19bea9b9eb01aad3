/* conc_process_start: the checks every start method shares, then the method's launch.
 *
 * Starting before conc_init is refused with -EPERM: under spawn and forkserver the child re-runs
 * main, and a main that starts a child before conc_init would start one in every child, forever
 * (CPython's "An attempt has been made to start a new process before the current process has
 * finished its bootstrapping phase"). That misuse alone prints one line, once per process. As in
 * Python, a daemon process may not start children: it is terminated without a chance to join
 * them. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc.h"
#include "../internal/hooks.h"
#include "../internal/conn.h"
#include "../internal/pass.h"
#include "../internal/shm.h"

/* Here, because a program that starts processes links this file (from a static library too), and
 * a spawned or forkserver child is the same program: the hook, the exit handler and the passers of
 * the kinds that can travel are in place in every child that needs them. */
__attribute__((constructor)) static void process_start_init(void) {
    conc__passer_register(&conc__conn_passer);
    conc__passer_register(&conc__shm_passer);
    atexit(conc__process_at_exit);
    __atomic_store_n(&conc__init_hook, conc__process_init_hook, __ATOMIC_RELEASE);
}

static void say_init_first(void) {
    static int said;
    if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED)) return;
    fputs("conc: conc_process_start called before conc_init: call conc_init(argc, argv) first in "
          "main\n",
          stderr);
}

int conc_process_start(conc_process_t **pp, const char *target, const void *arg, size_t len,
                       const conc_process_opts_t *opts) {
    if (!pp) return -EINVAL;
    *pp = NULL;
    if (!__atomic_load_n(&conc__proc_initialised, __ATOMIC_ACQUIRE)) {
        say_init_first();
        return -EPERM;
    }
    static const conc_process_opts_t none;
    if (!opts) opts = &none;
    if (!target || (!arg && len) || (!opts->pass && opts->n_pass)) return -EINVAL;
    if (opts->name && strlen(opts->name) >= CONC__NAME_MAX) return -EINVAL;
    if (conc__proc_daemonic) return -EPERM;
    conc_target_fn fn = conc__target_find(target);
    if (!fn) return -ENOENT;
    int method =
        opts->method == CONC_START_DEFAULT ? (int)conc_get_start_method() : (int)opts->method;
    if (method != CONC_START_FORK && method != CONC_START_SPAWN && method != CONC_START_FORKSERVER)
        return -EINVAL;

    if (method != CONC_START_FORK)
        for (size_t i = 0; i < opts->n_pass; i++)
            if (!conc__passer_find(opts->pass[i].kind) || !opts->pass[i].obj) return -EINVAL;

    conc__proc_sweep();
    char identity[CONC__IDENT_MAX], name[CONC__NAME_MAX];
    const char *mine = conc__proc_identity();
    int n = snprintf(identity, sizeof identity, "%s%s%u", mine, *mine ? ":" : "",
                     conc__proc_next_number());
    if (n < 0 || (size_t)n >= sizeof identity) return -EINVAL; /* nested 30 levels deep */
    if (opts->name && *opts->name)
        snprintf(name, sizeof name, "%s", opts->name);
    else
        snprintf(name, sizeof name, "Process-%s", identity);
    conc_process_t *p = conc__proc_alloc(name);
    if (!p) return -ENOMEM;
    p->method = method;
    p->daemon = opts->daemon;

    int r;
    if (method == CONC_START_FORK) {
        r = conc__start_fork(p, fn, arg, len, opts->pass, opts->n_pass, identity);
    } else {
        conc__request_t rq = {
            .target = target,
            .name = name,
            .identity = identity,
            .arg = arg,
            .len = len,
            .daemon = opts->daemon,
            .method = (int)conc_get_start_method(),
            .pass = opts->pass,
            .n_pass = opts->n_pass,
        };
        r = method == CONC_START_SPAWN ? conc__start_spawn(p, &rq) : conc__start_forkserver(p, &rq);
    }
    if (r < 0) {
        conc__proc_destroy(p);
        return r;
    }
    conc__proc_list_add(p);
    *pp = p;
    return 0;
}
