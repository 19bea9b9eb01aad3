/* Sockets by name: TCP (IPv4, IPv6) and Unix, connecting and listening, on top of conc_sock_* and
 * conc_getaddrinfo. A connection tries every address of the name in turn, as asyncio's
 * create_connection (without happy eyeballs): the first that connects wins, else the last error. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "conc/time.h"
#include "../internal/net.h"

/* A name that does not resolve: -EHOSTUNREACH (getaddrinfo's own codes would clash with -errno
 * values; call conc_getaddrinfo to see them). */
static int gai_to_errno(int r) {
    return r == -ENOMEM ? r : -EHOSTUNREACH;
}

int conc_tcp_connect(const char *host, int port, double timeout) {
    if (port < 0 || port > 65535) return -EINVAL;
    double deadline = timeout < 0 ? INFINITY : conc_monotonic() + timeout;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int r = conc_getaddrinfo(host ? host : "localhost", service, &hints, &res);
    if (r == -ECANCELED) return r;
    if (r != 0) return gai_to_errno(r);
    r = -EHOSTUNREACH;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = conc_sock_socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            r = fd;
            continue;
        }
        double left = deadline == INFINITY ? -1 : deadline - conc_monotonic();
        r = left < 0 && deadline != INFINITY
                ? -ETIMEDOUT
                : conc_sock_connect(fd, a->ai_addr, a->ai_addrlen, left);
        if (r == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            r = fd;
            break;
        }
        conc_sock_close(fd);
        if (r == -ECANCELED || r == -ETIMEDOUT) break;
    }
    freeaddrinfo(res);
    return r;
}

int conc_tcp_listen(const char *host, int port, int backlog) {
    if (port < 0 || port > 65535) return -EINVAL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *res;
    int r = conc_getaddrinfo(host, service, &hints, &res);
    if (r == -ECANCELED) return r;
    if (r != 0) return gai_to_errno(r);
    r = -EADDRNOTAVAIL;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = conc_sock_socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            r = fd;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (a->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
            listen(fd, backlog > 0 ? backlog : SOMAXCONN) == 0) {
            r = fd;
            break;
        }
        r = -errno;
        close(fd);
    }
    freeaddrinfo(res);
    return r;
}

static int unix_addr(const char *path, struct sockaddr_un *a, socklen_t *len) {
    if (!path) return -EINVAL;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof a->sun_path) return -ENAMETOOLONG;
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path, path, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

int conc_unix_connect(const char *path, double timeout) {
    struct sockaddr_un a;
    socklen_t len;
    int r = unix_addr(path, &a, &len);
    if (r < 0) return r;
    int fd = conc_sock_socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return fd;
    r = conc_sock_connect(fd, (struct sockaddr *)&a, len, timeout);
    if (r < 0) {
        conc_sock_close(fd);
        return r;
    }
    return fd;
}

int conc_unix_listen(const char *path, int backlog) {
    struct sockaddr_un a;
    socklen_t len;
    int r = unix_addr(path, &a, &len);
    if (r < 0) return r;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path); /* stale, as asyncio */
    int fd = conc_sock_socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return fd;
    if (bind(fd, (struct sockaddr *)&a, len) < 0 ||
        listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    return fd;
}
