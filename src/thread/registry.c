/* The registry of live threads: threading._active, enumerate(), active_count(), and what a fork
 * child keeps of it.
 *
 * A doubly linked list under one pthread mutex, statically holding the main thread, so that
 * enumerate() is right before anything ran. Threads enter when started (before they run, like
 * Python's _limbo) or when a dummy is made, and leave when their function returns or their pthread
 * exits. The lock is held only for list surgery and walks, never across a wait or a malloc, which
 * keeps it out of every fork-safety problem but one: a fork while another thread holds it. The
 * atfork handlers take it around fork(), so the child never inherits it locked, and the child
 * keeps only the forking thread, as Python's _after_fork does: the others do not exist there. */
#define _GNU_SOURCE
#include <pthread.h>
#include "../internal/thread.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
struct conc__tlink conc__reg_head = {&conc__main_static.link, &conc__main_static.link};
static size_t reg_count = 1;

static void link_in(conc_thread_t *t) {
    struct conc__tlink *l = &t->link;
    l->prev = conc__reg_head.prev;
    l->next = &conc__reg_head;
    conc__reg_head.prev->next = l;
    conc__reg_head.prev = l;
    t->listed = true;
    reg_count++;
}

static void link_out(conc_thread_t *t) {
    t->link.prev->next = t->link.next;
    t->link.next->prev = t->link.prev;
    t->link.prev = t->link.next = NULL;
    t->listed = false;
    reg_count--;
}

void conc__reg_add(conc_thread_t *t) {
    pthread_mutex_lock(&reg_lock);
    link_in(t);
    pthread_mutex_unlock(&reg_lock);
}

void conc__reg_remove(conc_thread_t *t) {
    pthread_mutex_lock(&reg_lock);
    if (t->listed) link_out(t);
    pthread_mutex_unlock(&reg_lock);
}

size_t conc_thread_active_count(void) {
    pthread_mutex_lock(&reg_lock);
    size_t n = reg_count;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

size_t conc_thread_enumerate(conc_thread_t **out, size_t cap) {
    size_t i = 0;
    pthread_mutex_lock(&reg_lock);
    for (struct conc__tlink *l = conc__reg_head.next; l != &conc__reg_head && i < cap; l = l->next)
        out[i++] = conc__thread_of(l);
    size_t n = reg_count;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

conc_thread_t *conc__reg_next_to_join(const conc_thread_t *skip1, const conc_thread_t *skip2) {
    conc_thread_t *found = NULL;
    pthread_mutex_lock(&reg_lock);
    for (struct conc__tlink *l = conc__reg_head.next; l != &conc__reg_head; l = l->next) {
        conc_thread_t *t = conc__thread_of(l);
        if (t->kind != CONC__THREAD_STARTED || t->daemon || t == skip1 || t == skip2) continue;
        conc__add(&t->refs, 1); /* listed, so its thread's reference still holds it */
        found = t;
        break;
    }
    pthread_mutex_unlock(&reg_lock);
    return found;
}

static void before_fork(void) {
    pthread_mutex_lock(&reg_lock);
}

static void after_fork_parent(void) {
    pthread_mutex_unlock(&reg_lock);
}

static void after_fork_child(void) {
    /* Still held from before_fork, by this very thread: the list is ours to fix, then unlocked.
     * (Re-initialising it instead leaves TSan believing it held forever, and the next fork in this
     * child then reports a lock-order inversion with every lock taken in before_fork handlers.) */
    conc_thread_t *self = conc__current_after_fork();
    struct conc__tlink *next;
    for (struct conc__tlink *l = conc__reg_head.next; l != &conc__reg_head; l = next) {
        next = l->next;
        conc_thread_t *t = conc__thread_of(l);
        if (t == self) continue;
        /* Its thread is gone: it is stopped (join returns at once), and the reference that thread
         * held - the running thread's, or a dummy's TLS slot - is dropped on its behalf. */
        link_out(t);
        __atomic_store_n(&t->reaped, true, __ATOMIC_RELAXED); /* no pthread to detach here */
        conc__thread_post(t, CONC__T_DONE);
        conc__thread_unref(t);
    }
    if (!self->listed) link_in(self);
    pthread_mutex_unlock(&reg_lock);
}

__attribute__((constructor)) static void reg_init(void) {
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
