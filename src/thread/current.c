/* threading.current_thread() and main_thread(): which object stands for the calling thread.
 *
 * A TLS pointer answers in one load. Threads conc started set it first thing; the main thread gets
 * the static "MainThread" object; any other thread (a raw pthread, a thread of another library)
 * gets a "Dummy-N" object made on first use, daemon as Python's _DummyThread, so the answer is never
 * NULL. A pthread key destructor takes the dummy out of the registry when its thread exits, which
 * Python can only approximate with a weak reference. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "../internal/thread.h"

conc_thread_t conc__main_static = {
    .link = {&conc__reg_head, &conc__reg_head},
    .state = CONC__T_RUNNING,
    .refs = 1,
    .kind = CONC__THREAD_MAIN,
    .daemon = false,
    .listed = true,
    .name = "MainThread",
};
__thread conc_thread_t *conc__self;
/* After a fork from another thread, the forking thread's object becomes main (as in Python). */
static conc_thread_t *main_thread = &conc__main_static;

static void set_ids(conc_thread_t *t, pid_t tid) {
    __atomic_store_n(&t->tid, tid, __ATOMIC_RELAXED);
    __atomic_store_n(&t->ident, (uint64_t)pthread_self(), __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void main_ids(void) {
    /* Constructors run in the main thread, unless the library is dlopen()ed from another one; then
     * the main thread's ident is filled in the first time it calls conc_thread_current(). */
    if (gettid() == getpid()) set_ids(&conc__main_static, getpid());
}

conc_thread_t *conc_thread_main(void) {
    return __atomic_load_n(&main_thread, __ATOMIC_ACQUIRE);
}

static pthread_key_t dummy_key;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static int dummy_key_err;

static void dummy_gone(void *p) {
    conc_thread_t *t = p;
    if (conc__self == t) conc__self = NULL;
    conc__reg_remove(t);
    conc__thread_post(t, CONC__T_DONE);
    conc__thread_unref(t);
}

static void dummy_key_make(void) {
    dummy_key_err = pthread_key_create(&dummy_key, dummy_gone);
}

static conc_thread_t *dummy_new(void) {
    if (pthread_once(&dummy_once, dummy_key_make) != 0 || dummy_key_err) return NULL;
    conc_thread_t *t = conc__thread_alloc(NULL, "Dummy");
    if (!t) return NULL;
    t->kind = CONC__THREAD_DUMMY;
    t->daemon = true;
    t->refs = 1; /* the key's slot */
    t->state = CONC__T_RUNNING;
    set_ids(t, conc__self_tid());
    if (pthread_setspecific(dummy_key, t) != 0) {
        free(t);
        return NULL;
    }
    conc__reg_add(t);
    conc__self = t;
    return t;
}

conc_thread_t *conc_thread_current(void) {
    conc_thread_t *t = conc__self;
    if (conc__likely(t != NULL)) return t;
    if (conc__is_main_thread()) {
        t = conc_thread_main();
        if (!__atomic_load_n(&t->ident, __ATOMIC_RELAXED)) set_ids(t, conc__self_tid());
        conc__self = t;
        return t;
    }
    return dummy_new();
}

conc_thread_t *conc__current_after_fork(void) {
    conc_thread_t *self = conc__self ? conc__self : &conc__main_static;
    conc_thread_t *old = main_thread;
    if (old != self) {
        if (self != &conc__main_static) conc__add(&self->refs, 1); /* held by main_thread */
        if (old != &conc__main_static) conc__thread_unref(old);
    }
    set_ids(self, getpid()); /* the forking thread's tid is the child's pid */
    __atomic_and_fetch(&self->state, ~CONC__T_DONE, __ATOMIC_RELAXED);
    __atomic_or_fetch(&self->state, CONC__T_RUNNING, __ATOMIC_RELAXED);
    __atomic_store_n(&main_thread, self, __ATOMIC_RELEASE);
    conc__self = self;
    return self;
}
