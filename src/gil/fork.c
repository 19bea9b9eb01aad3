/* Fork: every live GIL is in a registry so a pthread_atfork child handler can repair it.
 *
 * Only the forking thread exists in the child. If it held the GIL it still does (as a CPython
 * child after os.fork, whose forking thread holds the GIL); otherwise the GIL is free, since its
 * holder is gone. Waiters are gone too, so the queues and the queue lock start empty - another
 * thread may have been inside a critical section at the moment of fork. Counters are kept. */
#include <pthread.h>
#include "gil_impl.h"

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static conc_gil_t *reg_head;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void before_fork(void) {
    pthread_mutex_lock(&reg_mu);
    pid_t me = conc__self_tid();
    for (conc_gil_t *g = reg_head; g; g = g->_priv.reg_next)
        g->_priv.forker_held =
            gil_get(&g->_priv.owner) == me && (conc__load(&g->_priv.state) & ST_HELD);
}

static void in_parent(void) {
    pthread_mutex_unlock(&reg_mu);
}

static void in_child(void) {
    pid_t me = conc__self_tid(); /* the ids module's child handler, registered first, reset it */
    for (conc_gil_t *g = reg_head; g; g = g->_priv.reg_next) {
        bool held = g->_priv.forker_held;
        /* atomic stores: the parent's other threads used these words atomically */
        gil_set(&g->_priv.qlock, 0);
        g->_priv.head[Q_CPU] = g->_priv.head[Q_IO] = NULL;
        g->_priv.tail[Q_CPU] = g->_priv.tail[Q_IO] = NULL;
        gil_set(&g->_priv.breaker, gil_get(&g->_priv.breaker) & CONC__GIL_COUNT);
        gil_set(&g->_priv.prot_until, 0);
        g->_priv.win_start = g->_priv.cpu_got = g->_priv.cpu_start = 0;
        gil_set(&g->_priv.holder_io, 0);
        gil_set(&g->_priv.state, held ? ST_HELD : 0);
        gil_set(&g->_priv.owner, held ? me : 0);
        gil_set(&g->_priv.last, held ? me : 0);
    }
    pthread_mutex_unlock(&reg_mu);
}

static void install(void) {
    pthread_atfork(before_fork, in_parent, in_child);
}

void conc__gil_register(conc_gil_t *g) {
    pthread_once(&reg_once, install);
    pthread_mutex_lock(&reg_mu);
    g->_priv.reg_prev = NULL;
    g->_priv.reg_next = reg_head;
    if (reg_head) reg_head->_priv.reg_prev = g;
    reg_head = g;
    pthread_mutex_unlock(&reg_mu);
}

void conc__gil_unregister(conc_gil_t *g) {
    pthread_mutex_lock(&reg_mu);
    conc_gil_t *p = g->_priv.reg_prev, *n = g->_priv.reg_next;
    if (p)
        p->_priv.reg_next = n;
    else
        reg_head = n;
    if (n) n->_priv.reg_prev = p;
    pthread_mutex_unlock(&reg_mu);
}
