/* Manager addresses: "unix:PATH", "unix:@NAME" (Linux's abstract namespace), "tcp:HOST:PORT" and
 * "tcp:[V6ADDR]:PORT" - one string, so an address fits a command line, an environment variable or
 * a message to a child, and the family is never guessed from the text's shape.
 *
 * Sockets are close-on-exec (a child gets a manager only when one is handed to it) and TCP ones
 * set TCP_NODELAY on both ends: every call is a small request and a small reply, which Nagle's
 * algorithm would otherwise hold back for the previous segment's ACK (Python's managers pay the
 * same price for the same reason, bpo-20540). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>
#include "mgr.h"

static int parse_unix(const char *path, conc__maddr_t *a) {
    struct sockaddr_un *un = (struct sockaddr_un *)&a->sa;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof un->sun_path) return -EINVAL;
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n);
    if (path[0] == '@') un->sun_path[0] = '\0'; /* abstract: the name is the bytes after NUL */
    a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] != '@'));
    a->family = AF_UNIX;
    return 0;
}

static int parse_tcp(const char *hp, conc__maddr_t *a) {
    char host[256];
    const char *port;
    if (hp[0] == '[') {
        const char *end = strchr(hp, ']');
        if (!end || end[1] != ':' || (size_t)(end - hp - 1) >= sizeof host) return -EINVAL;
        memcpy(host, hp + 1, (size_t)(end - hp - 1));
        host[end - hp - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(hp, ':');
        if (!colon || (size_t)(colon - hp) >= sizeof host || memchr(hp, ':', (size_t)(colon - hp)))
            return -EINVAL;
        memcpy(host, hp, (size_t)(colon - hp));
        host[colon - hp] = '\0';
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535 || !host[0]) return -EINVAL;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV},
                    *res;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) return -EADDRNOTAVAIL;
    memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
    a->len = res->ai_addrlen;
    a->family = res->ai_family;
    freeaddrinfo(res);
    return 0;
}

int conc__maddr_parse(const char *address, conc__maddr_t *a) {
    if (!address || !a) return -EINVAL;
    memset(a, 0, sizeof *a);
    if (!strncmp(address, "unix:", 5)) return parse_unix(address + 5, a);
    if (!strncmp(address, "tcp:", 4)) return parse_tcp(address + 4, a);
    return -EINVAL;
}

char *conc__maddr_format(const conc__maddr_t *a) {
    char buf[160], host[INET6_ADDRSTRLEN];
    if (a->family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)&a->sa;
        size_t n = a->len - offsetof(struct sockaddr_un, sun_path);
        if (un->sun_path[0] == '\0') { /* abstract */
            char *s = malloc(n + 6);
            if (!s) return NULL;
            memcpy(s, "unix:@", 6);
            memcpy(s + 6, un->sun_path + 1, n - 1);
            s[n + 5] = '\0';
            return s;
        }
        char *s = malloc(n + 6);
        if (!s) return NULL;
        snprintf(s, n + 6, "unix:%.*s", (int)strnlen(un->sun_path, n), un->sun_path);
        return s;
    }
    if (a->family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, sizeof buf, "tcp:%s:%u", host, ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, sizeof buf, "tcp:[%s]:%u", host, ntohs(in6->sin6_port));
    }
    return strdup(buf);
}

static void nodelay(int fd, int family) {
    int one = 1;
    if (family != AF_UNIX) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int conc__maddr_listen(const conc__maddr_t *a, int *fd, conc__maddr_t *bound) {
    int s = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) return -errno;
    int one = 1;
    if (a->family != AF_UNIX) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (const struct sockaddr *)&a->sa, a->len) < 0 || listen(s, 128) < 0) {
        int e = -errno;
        close(s);
        return e;
    }
    *bound = *a;
    if (a->family != AF_UNIX) { /* learn the port picked for port 0 */
        bound->len = sizeof bound->sa;
        getsockname(s, (struct sockaddr *)&bound->sa, &bound->len);
    }
    *fd = s;
    return 0;
}

int conc__maddr_connect(const conc__maddr_t *a, int *fd) {
    int s = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    int r;
    do r = connect(s, (const struct sockaddr *)&a->sa, a->len);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        int e = -errno;
        close(s);
        return e;
    }
    nodelay(s, a->family);
    *fd = s;
    return 0;
}

/* Accepted sockets get the same treatment (serve.c). */
CONC_HIDDEN void conc__maddr_accepted(int fd, int family);
void conc__maddr_accepted(int fd, int family) {
    nodelay(fd, family);
}
