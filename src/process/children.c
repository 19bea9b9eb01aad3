/* The children list and a process object's life: Python's _children set, Process.close(), and
 * util._exit_function's "terminate the daemonic children, then join them all".
 *
 * A child stays listed until it has been reaped and its handle freed, whichever comes last, so a
 * handle can be freed while the child runs and the child is still joined (or terminated) at exit.
 * The lock guards only list surgery and flags; waiting and reaping happen outside it, and the
 * atfork handlers take it around fork(), so a fork child never inherits it held. A fork child's
 * copy of the list names its siblings, not its children: every walk skips entries whose owner is
 * not this process. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "proc.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static conc_process_t head = {.prev = &head, .next = &head};
/* Set once exit handling began: from then on nothing is unlinked or destroyed (the walk below keeps
 * pointers across unlocked joins), and the memory stays reachable from the list. */
static int exiting;

conc_process_t *conc__proc_alloc(const char *name) {
    size_t len = strlen(name) + 1;
    conc_process_t *p = calloc(1, sizeof *p + len);
    if (!p) return NULL;
    memcpy(p->name, name, len);
    p->owner = conc__self_pid();
    p->pidfd = -1;
    p->status_fd = -1;
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

void conc__proc_destroy(conc_process_t *p) {
    if (p->pidfd >= 0) close(p->pidfd);
    if (p->status_fd >= 0) close(p->status_fd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static void unlink_locked(conc_process_t *p) {
    p->prev->next = p->next;
    p->next->prev = p->prev;
    p->listed = false;
}

void conc__proc_list_add(conc_process_t *p) {
    pthread_mutex_lock(&lock);
    p->prev = head.prev;
    p->next = &head;
    head.prev->next = p;
    head.prev = p;
    p->listed = true;
    pthread_mutex_unlock(&lock);
}

void conc__proc_sweep(void) {
    pid_t self = conc__self_pid();
    conc_process_t *dead = NULL;
    pthread_mutex_lock(&lock);
    if (exiting) {
        pthread_mutex_unlock(&lock);
        return;
    }
    for (conc_process_t *p = head.next, *next; p != &head; p = next) {
        next = p->next;
        /* A freed handle has no other user, so reaping it here cannot race a join. */
        if (p->owner != self || !p->freed || !conc__proc_reap(p)) continue;
        unlink_locked(p);
        p->next = dead;
        dead = p;
    }
    pthread_mutex_unlock(&lock);
    while (dead) {
        conc_process_t *p = dead;
        dead = p->next;
        conc__proc_destroy(p);
    }
}

/* The next listed child of ours not reaped yet, after skip_until (the walk resumes past the
 * entries already handled; they stay listed while exiting is set). */
static conc_process_t *next_running(bool daemon_only, conc_process_t *skip_until) {
    pid_t self = conc__self_pid();
    conc_process_t *found = NULL;
    pthread_mutex_lock(&lock);
    conc_process_t *p = skip_until ? skip_until->next : head.next;
    for (; p != &head; p = p->next) {
        if (p->owner != self || __atomic_load_n(&p->done, __ATOMIC_ACQUIRE)) continue;
        if (daemon_only && !p->daemon) continue;
        found = p;
        break;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

/* How long daemon children get to honour SIGTERM at exit before SIGKILL. Python waits forever,
 * so a daemon child that ignores SIGTERM hangs its parent's exit; conc does not let it. */
#define DAEMON_GRACE 1.0

void conc__proc_exit_children(void) {
    pthread_mutex_lock(&lock);
    exiting = 1;
    pthread_mutex_unlock(&lock);
    conc_process_t *first = next_running(true, NULL);
    for (conc_process_t *p = first; p; p = next_running(true, p)) conc_process_terminate(p);
    double grace = first ? conc_deadline(DAEMON_GRACE) : 0;
    for (conc_process_t *p = first; p; p = next_running(true, p))
        if (conc_process_join(p, conc_deadline_remaining(grace)) == -ETIMEDOUT) {
            conc_process_kill(p);
            conc_process_join(p, CONC_FOREVER);
        }
    /* A SIGINT stops the joining (KeyboardInterrupt at exit); the process exits anyway. */
    for (conc_process_t *p = NULL; (p = next_running(false, p));)
        if (conc_process_join(p, CONC_FOREVER) == -EINTR) break;
}

void conc_process_free(conc_process_t *p) {
    if (!p) return;
    if (p->owner != conc__self_pid()) {
        /* A fork child's copy of its parent's handle: ours to free, not to reap. */
        pthread_mutex_lock(&lock);
        bool keep = exiting;
        if (!keep && p->listed) unlink_locked(p);
        pthread_mutex_unlock(&lock);
        if (!keep) conc__proc_destroy(p);
        return;
    }
    conc__proc_reap(p);
    pthread_mutex_lock(&lock);
    bool done = __atomic_load_n(&p->done, __ATOMIC_ACQUIRE) && !exiting;
    if (done && p->listed) unlink_locked(p);
    if (!done) p->freed = true;
    pthread_mutex_unlock(&lock);
    if (done) conc__proc_destroy(p);
}

pid_t conc_process_pid(conc_process_t *p) {
    return p ? p->pid : -1;
}

const char *conc_process_name(conc_process_t *p) {
    return p ? p->name : NULL;
}

int conc_process_sentinel(conc_process_t *p) {
    if (!p) return -EINVAL;
    return p->status_fd >= 0 ? p->status_fd : p->pidfd;
}

static int send_signal(conc_process_t *p, int sig) {
    if (!p) return -EINVAL;
    if (__atomic_load_n(&p->done, __ATOMIC_ACQUIRE)) return 0; /* as Python: a no-op once ended */
    int r = conc__pidfd_signal(p->pidfd, sig);
    return r == -ESRCH ? 0 : r;
}

int conc_process_terminate(conc_process_t *p) {
    return send_signal(p, SIGTERM);
}

int conc_process_kill(conc_process_t *p) {
    return send_signal(p, SIGKILL);
}

static void before_fork(void) {
    pthread_mutex_lock(&lock);
}

static void after_fork(void) {
    pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void children_init(void) {
    /* The child unlocks too (the forking thread took the lock; a default mutex does not check the
     * owner): re-initialising it instead would leave TSan believing it held forever. */
    pthread_atfork(before_fork, after_fork, after_fork);
}
