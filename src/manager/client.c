/* The client handle: connect and authenticate, then round trips that several threads share.
 *
 * Threads share one connection. Each call sends its request (the conn module's send lock keeps
 * frames whole) and waits for the reply carrying its msgid. Whoever finds no reader becomes the
 * reader and reads replies for everyone, handing each to its waiter; once it has its own it passes
 * the role to another waiter (leader/follower). So a thread blocked in queue.get on the server
 * does not stop another thread's dict.get from getting its answer, without a reader thread per
 * handle.
 *
 * A forked child must not use its parent's connection (their frames would interleave on one
 * socket). The handle remembers the pid that connected; the first call in another process
 * reconnects with the stored address and key, as a CPython proxy does after fork. */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mgr.h"
#include "../internal/conn.h"
#include "../internal/pass.h"

struct conc__mwaiter {
    conc__mwaiter_t *next;
    uint64_t msgid;
    uint32_t seq; /* futex word: bumped on every hand-over */
    bool done;
    void *frame;
    size_t len;
};

#define HANDSHAKE_S 60.0
#define RBUF_START  ((size_t)16 << 10)
#define RBUF_KEEP   ((size_t)1 << 20)

static int open_conn(const char *address, const void *key, size_t klen, size_t max,
                     conc_conn_t **out) {
    conc__maddr_t a;
    int fd, r = conc__maddr_parse(address, &a);
    if (r < 0) return r;
    if ((r = conc__maddr_connect(&a, &fd)) < 0) return r;
    conc_conn_t *c = conc__conn_new(fd, CONC__CONN_READ | CONC__CONN_WRITE, CONC__AUTH_MAX_FRAME);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    r = conc__auth_client(c, key, klen, conc_monotonic() + HANDSHAKE_S);
    if (r < 0) {
        conc_conn_close(c);
        return r;
    }
    conc_conn_set_max_message(c, max);
    *out = c;
    return 0;
}

int conc_manager_connect(conc_manager_t **mp, const char *address, const void *authkey,
                         size_t len) {
    if (!mp || !address || !authkey || !len) return -EINVAL;
    conc_manager_t *m = calloc(1, sizeof *m);
    if (!m) return -ENOMEM;
    m->max = CONC_MANAGER_DEFAULT_MAX_MESSAGE;
    m->bell = -1;
    m->address = strdup(address);
    m->key = malloc(len);
    if (!m->address || !m->key) {
        conc_manager_free(m);
        return -ENOMEM;
    }
    memcpy(m->key, authkey, len);
    m->key_len = len;
    pthread_mutex_init(&m->mu, NULL);
    int r = open_conn(address, authkey, len, m->max, &m->conn);
    if (r < 0) {
        conc_manager_free(m);
        return r;
    }
    m->pid = conc__self_pid();
    conc__mfast_open(m);
    *mp = m;
    return 0;
}

const char *conc_manager_address(conc_manager_t *m) {
    return m ? m->address : NULL;
}

const void *conc_manager_authkey(conc_manager_t *m, size_t *len) {
    if (!m) return NULL;
    if (len) *len = m->key_len;
    return m->key;
}

uint64_t conc__mnext_id(conc_manager_t *m) {
    return __atomic_add_fetch(&m->next_msgid, 1, __ATOMIC_RELAXED);
}

/* In a forked child: a connection of our own (the parent's threads and waiters are not here). */
static int after_fork(conc_manager_t *m) {
    pthread_mutex_init(&m->mu, NULL);
    m->reading = false;
    m->waiters = NULL;
    m->broken = 0;
    m->rhave = 0;     /* the parent's half-read replies are not ours */
    m->server = NULL; /* the parent's to stop, not ours */
    if (m->conn) conc_conn_close(m->conn);
    m->conn = NULL;
    int r = open_conn(m->address, m->key, m->key_len, m->max, &m->conn);
    if (r < 0) m->broken = r;
    m->pid = conc__self_pid();
    return r;
}

static void unlink_waiter(conc_manager_t *m, conc__mwaiter_t *w) {
    for (conc__mwaiter_t **pp = &m->waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            return;
        }
}

/* Read one reply frame into a malloc'd buffer. The bytes come through a read buffer of the handle
 * (only the reader touches it): one recv usually brings a whole reply, header and body, where the
 * conn module's reader - which must never read past a message, its fd being the caller's to poll -
 * pays a recv for each. In the main thread the wait is a ppoll that SIGINT ends (conc__wait_fds);
 * elsewhere a blocking recv is the whole wait. */
int conc__mread_reply(conc_manager_t *m, void **out, size_t *len) {
    int fd = conc_conn_fd(m->conn);
    for (;;) {
        size_t hdr = 4, need = 4;
        const unsigned char *h = (const unsigned char *)m->rbuf;
        if (m->rhave >= 4) {
            uint64_t size = 0;
            if (!memcmp(h, "\xff\xff\xff\xff", 4)) {
                hdr = need = 12;
                if (m->rhave >= 12)
                    for (int i = 4; i < 12; i++) size = size << 8 | h[i];
            } else {
                int32_t n = (int32_t)((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
                                      (uint32_t)h[2] << 8 | h[3]);
                if (n < 0) return CONC_EPROTO;
                size = (uint64_t)n;
            }
            if (m->rhave >= hdr) {
                if (size > m->max) return CONC_EPROTO;
                need = hdr + (size_t)size;
                if (m->rhave >= need) {
                    void *f = malloc(size ? (size_t)size : 1);
                    if (!f) return -ENOMEM;
                    memcpy(f, h + hdr, (size_t)size);
                    memmove(m->rbuf, m->rbuf + need, m->rhave - need);
                    m->rhave -= need;
                    if (!m->rhave && m->rcap > RBUF_KEEP) { /* a big reply passed: let it go */
                        free(m->rbuf);
                        m->rbuf = NULL;
                        m->rcap = 0;
                    }
                    *out = f;
                    *len = (size_t)size;
                    return 0;
                }
            }
        }
        if (m->rhave == m->rcap) { /* grow as bytes arrive, up to the frame's size */
            size_t cap = m->rcap ? m->rcap * 2 : RBUF_START;
            if (need > m->rcap && need < cap) cap = need;
            char *p = realloc(m->rbuf, cap);
            if (!p) return -ENOMEM;
            m->rbuf = p;
            m->rcap = cap;
        }
        bool intr = conc__intr_here();
        if (intr) {
            struct pollfd pf = {fd, POLLIN, 0};
            int w = conc__wait_fds(&pf, 1, INFINITY, true);
            if (w < 0) return w;
        }
        ssize_t r = recv(fd, m->rbuf + m->rhave, m->rcap - m->rhave, intr ? MSG_DONTWAIT : 0);
        if (r > 0) {
            m->rhave += (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            return CONC_ECLOSED;
    }
}

static void poke(conc__mwaiter_t *w) {
    __atomic_add_fetch(&w->seq, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&w->seq, 1, false);
}

/* The reader stepped down: let a waiter still waiting take over. */
static void pass_reading(conc_manager_t *m) {
    for (conc__mwaiter_t *o = m->waiters; o; o = o->next)
        if (!o->done) {
            poke(o);
            return;
        }
}

/* With mu held: hand a reply frame to its waiter; a frame nobody waits for (its caller gave up on
 * SIGINT) is dropped. */
static void deliver(conc_manager_t *m, conc__mwaiter_t *self, void *buf, size_t len) {
    uint64_t id;
    int err;
    const char *res;
    if (conc__mrep_decode(buf, len, &id, &err, &res) < 0) {
        free(buf);
        m->broken = CONC_EPROTO;
        for (conc__mwaiter_t *o = m->waiters; o; o = o->next) poke(o);
        return;
    }
    for (conc__mwaiter_t *o = m->waiters; o; o = o->next)
        if (o->msgid == id && !o->done) {
            o->frame = buf;
            o->len = len;
            o->done = true;
            if (o != self) poke(o); /* the reader is awake: no futex wake for itself */
            return;
        }
    free(buf);
}

static int wait_reply(conc_manager_t *m, conc__mwaiter_t *w) {
    pthread_mutex_lock(&m->mu);
    for (;;) {
        if (w->done) break;
        if (m->broken) {
            unlink_waiter(m, w);
            pthread_mutex_unlock(&m->mu);
            return m->broken == CONC_EPROTO ? CONC_EPROTO : CONC_ECLOSED;
        }
        if (!m->reading) {
            m->reading = true;
            pthread_mutex_unlock(&m->mu);
            void *buf;
            size_t len;
            int r = conc__mread_reply(m, &buf, &len);
            pthread_mutex_lock(&m->mu);
            m->reading = false;
            if (r == -EINTR) {
                unlink_waiter(m, w);
                pass_reading(m);
                pthread_mutex_unlock(&m->mu);
                return -EINTR;
            }
            if (r < 0) {
                m->broken = r;
                for (conc__mwaiter_t *o = m->waiters; o; o = o->next) poke(o);
            } else {
                deliver(m, w, buf, len);
            }
            continue;
        }
        uint32_t seq = __atomic_load_n(&w->seq, __ATOMIC_ACQUIRE);
        pthread_mutex_unlock(&m->mu);
        int r = conc__wait(&w->seq, seq, INFINITY, false);
        pthread_mutex_lock(&m->mu);
        if (r == -EINTR && !w->done) {
            unlink_waiter(m, w);
            if (!m->reading) pass_reading(m); /* the poke that woke us may have been the role */
            pthread_mutex_unlock(&m->mu);
            return -EINTR;
        }
    }
    unlink_waiter(m, w);
    if (!m->reading) pass_reading(m);
    pthread_mutex_unlock(&m->mu);
    return 0;
}

int conc__mcall(conc_manager_t *m, uint64_t msgid, const conc__mbuf_t *req, void **frame,
                const char **result) {
    if (m->pid != conc__self_pid()) {
        int r = after_fork(m);
        if (r < 0) return r;
    }
    conc__mwaiter_t w = {.msgid = msgid};
    pthread_mutex_lock(&m->mu);
    int broken = m->broken;
    if (!broken) {
        w.next = m->waiters;
        m->waiters = &w;
    }
    pthread_mutex_unlock(&m->mu);
    if (broken) return broken == CONC_EPROTO ? CONC_EPROTO : CONC_ECLOSED;
    /* The waiter is registered first even for the fast path: its reply may come on the socket. */
    void *slot_frame = NULL;
    size_t slot_len = 0;
    int r = m->fast ? conc__mfast_call(m, req, &slot_frame, &slot_len) : 2;
    bool in_slot = r == 0;
    if (r == 2) r = conc_conn_send(m->conn, req->p, req->len);
    if (r < 0 || in_slot) {
        /* A reader stepping down meanwhile may have passed its role to this waiter, which never
         * reads: pass it on, or a thread waiting on the socket would wait for nobody. */
        pthread_mutex_lock(&m->mu);
        unlink_waiter(m, &w);
        if (!m->reading) pass_reading(m);
        pthread_mutex_unlock(&m->mu);
        if (r < 0) return r;
        w.frame = slot_frame;
        w.len = slot_len;
    } else if ((r = wait_reply(m, &w)) < 0) {
        return r;
    }
    uint64_t id;
    int err = 0;
    if (conc__mrep_decode(w.frame, w.len, &id, &err, result) < 0 || err < 0) {
        free(w.frame);
        return err < 0 ? err : CONC_EPROTO;
    }
    *frame = w.frame;
    return 0;
}

int conc_manager_shutdown(conc_manager_t *m) {
    if (!m) return -EINVAL;
    conc__mbuf_t b = {0};
    uint64_t id = conc__mnext_id(m);
    int r = conc__mreq_begin(&b, id, "manager.shutdown", "", 0, 0);
    void *frame = NULL;
    const char *res;
    if (r == 0) r = conc__mcall(m, id, &b, &frame, &res);
    conc__mbuf_free(&b);
    free(frame);
    if (m->server) {
        if (conc_process_join(m->server, 10) == -ETIMEDOUT) {
            conc_process_kill(m->server);
            conc_process_join(m->server, 10);
        }
        conc_process_free(m->server);
        m->server = NULL;
    }
    return r;
}

void conc_manager_free(conc_manager_t *m) {
    if (!m) return;
    if (m->server && m->pid == conc__self_pid()) conc_manager_shutdown(m);
    if (m->conn) conc_conn_close(m->conn);
    if (m->key) memset(m->key, 0, m->key_len);
    free(m->key);
    free(m->address);
    free(m->rbuf);
    conc__mfast_close(m);
    if (m->pid) pthread_mutex_destroy(&m->mu);
    free(m);
}
