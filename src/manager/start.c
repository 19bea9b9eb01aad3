/* conc_manager_start: the server in a child process (any start method), and handing a manager to
 * children.
 *
 * The child is an ordinary conc process running the registered target conc__manager_server, so
 * fork, spawn and forkserver all work as for any target. Its argument carries the address, key,
 * frame limit and our pid; a Pipe passed along brings back the real address (port 0 resolved) or
 * the error that stopped it. The server watches our pidfd and stops when we end, however we end;
 * it ignores SIGINT, as CPython's manager process does, so Ctrl+C reaches the program, which then
 * shuts the server down (or simply exits).
 *
 * A manager handed to a child (CONC_OBJ_MANAGER) travels as its address and key; the child
 * connects on its own. Under fork the child gets the parent's handle itself, which reconnects on
 * first use (client.c). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "mgr.h"
#include "../internal/pass.h"

#define SERVER_TARGET "conc__manager_server"
#define START_S       60.0

struct head {
    uint64_t max;
    uint32_t key_len, addr_len;
    int32_t parent;
};

static void ready(const char *address, void *arg) {
    size_t n = strlen(address);
    char *msg = malloc(n + 1);
    if (!msg) return;
    msg[0] = 'A';
    memcpy(msg + 1, address, n);
    conc_conn_send(arg, msg, n + 1);
    free(msg);
}

static int server_main(const void *arg, size_t len) {
    conc_conn_t *report = conc_passed_conn(0);
    struct head h;
    if (!report || len < sizeof h) return 2;
    memcpy(&h, arg, sizeof h);
    if (len != sizeof h + h.key_len + h.addr_len) return 2;
    const unsigned char *key = (const unsigned char *)arg + sizeof h;
    char *address = h.addr_len ? strndup((const char *)key + h.key_len, h.addr_len) : NULL;
    signal(SIGINT, SIG_IGN);
    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)h.parent, 0);
    conc__mserve_opts_t o = {address, key, h.key_len, (size_t)h.max, pidfd, true, ready, report};
    int r = pidfd < 0 ? -errno : conc__mserve(&o);
    if (r < 0) { /* before ready: tell the parent why */
        char msg[16];
        int n = snprintf(msg, sizeof msg, "E%d", r);
        conc_conn_send(report, msg, (size_t)n);
    }
    if (pidfd >= 0) close(pidfd);
    free(address);
    return r < 0 ? 1 : 0;
}

static const conc__passer_t manager_passer;

__attribute__((constructor)) static void register_server(void) {
    conc_target_register(SERVER_TARGET, server_main);
    conc__passer_register(&manager_passer);
}

int conc_manager_start(conc_manager_t **mp, const conc_manager_opts_t *opts) {
    if (!mp) return -EINVAL;
    conc_manager_opts_t def = {0};
    if (!opts) opts = &def;
    unsigned char random_key[32];
    const void *key = opts->authkey;
    size_t klen = opts->authkey_len;
    if (!key) {
        int r = conc__random(random_key, sizeof random_key);
        if (r < 0) return r;
        key = random_key;
        klen = sizeof random_key;
    }
    if (!klen || klen > 1024) return -EINVAL;
    size_t alen = opts->address ? strlen(opts->address) : 0;
    struct head h = {opts->max_message ? opts->max_message : CONC_MANAGER_DEFAULT_MAX_MESSAGE,
                     (uint32_t)klen, (uint32_t)alen, (int32_t)getpid()};
    size_t len = sizeof h + klen + alen;
    char *arg = malloc(len);
    if (!arg) return -ENOMEM;
    memcpy(arg, &h, sizeof h);
    memcpy(arg + sizeof h, key, klen);
    if (alen) memcpy(arg + sizeof h + klen, opts->address, alen);
    conc_conn_t *mine, *theirs;
    int r = conc_pipe(&mine, &theirs, true);
    if (r < 0) {
        free(arg);
        return r;
    }
    conc_obj_t pass[1] = {CONC_OBJ_CONN(theirs)};
    conc_process_opts_t po = {
        .method = opts->method, .daemon = true, .name = "ManagerServer", .pass = pass, .n_pass = 1};
    conc_process_t *p;
    r = conc_process_start(&p, SERVER_TARGET, arg, len, &po);
    memset(arg + sizeof h, 0, klen);
    free(arg);
    conc_conn_close(theirs);
    if (r < 0) {
        conc_conn_close(mine);
        return r;
    }
    void *msg = NULL;
    size_t mlen = 0;
    r = conc_conn_recv(mine, &msg, &mlen, START_S);
    conc_conn_close(mine);
    char *address = NULL;
    if (r == 0 && mlen > 1 && ((char *)msg)[0] == 'A') {
        address = strndup((char *)msg + 1, mlen - 1);
        r = address ? 0 : -ENOMEM;
    } else if (r == 0) {
        char code[16] = {0};
        memcpy(code, (char *)msg + 1, mlen - 1 < 15 ? mlen - 1 : 15);
        r = mlen > 1 && ((char *)msg)[0] == 'E' ? atoi(code) : CONC_EPROTO;
        if (r >= 0) r = CONC_EPROTO;
    } else if (r == CONC_ECLOSED) {
        r = CONC_EBROKEN; /* the server process died before it was ready */
    }
    free(msg);
    conc_manager_t *m = NULL;
    if (r == 0) r = conc_manager_connect(&m, address, key, klen);
    free(address);
    if (r < 0) {
        conc_process_kill(p);
        conc_process_join(p, 10);
        conc_process_free(p);
        return r;
    }
    m->max = h.max;
    conc_conn_set_max_message(m->conn, h.max);
    m->server = p;
    *mp = m;
    return 0;
}

/* ---- handing a manager to a child ---- */

static int manager_export(void *obj, int *fds, size_t *nfds, void *buf, size_t *len) {
    (void)fds;
    conc_manager_t *m = obj;
    if (!m) return -EINVAL;
    size_t alen = strlen(m->address);
    struct head h = {m->max, (uint32_t)m->key_len, (uint32_t)alen, 0};
    if (sizeof h + m->key_len + alen > *len) return -EINVAL;
    memcpy(buf, &h, sizeof h);
    memcpy((char *)buf + sizeof h, m->key, m->key_len);
    memcpy((char *)buf + sizeof h + m->key_len, m->address, alen);
    *len = sizeof h + m->key_len + alen;
    *nfds = 0;
    return 0;
}

static void *manager_import(const int *fds, size_t nfds, const void *buf, size_t len) {
    for (size_t i = 0; i < nfds; i++) close(fds[i]);
    struct head h;
    if (len < sizeof h) return NULL;
    memcpy(&h, buf, sizeof h);
    if (len != sizeof h + h.key_len + h.addr_len || !h.key_len) return NULL;
    const char *key = (const char *)buf + sizeof h;
    char *address = strndup(key + h.key_len, h.addr_len);
    conc_manager_t *m = NULL;
    if (address && conc_manager_connect(&m, address, key, h.key_len) == 0) {
        m->max = h.max;
        conc_conn_set_max_message(m->conn, h.max);
    }
    free(address);
    return m;
}

static const conc__passer_t manager_passer = {CONC_OBJ_KIND_MANAGER, manager_export,
                                              manager_import};

conc_manager_t *conc_passed_manager(size_t i) {
    return conc__passed_obj(i, CONC_OBJ_KIND_MANAGER);
}
