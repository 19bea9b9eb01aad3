/* The resource tracker process (see shm/tracker.c for the design): read "+name" / "-name" records
 * until EOF, then unlink every name still registered whose device and inode still match.
 *
 * It is a fork of a possibly multithreaded process, so everything here is async-signal-safe: plain
 * syscalls, buffers on the stack, and a hash table in memory from mmap (never malloc). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../internal/shm.h"

#define SHM_DIR "/dev/shm/"

struct slot {
    uint32_t state; /* 0 empty, 1 used, 2 deleted */
    struct conc__shm_rec rec;
};

static struct slot *table;
static size_t cap, used, deleted;

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct slot *find(struct slot *t, size_t n, const char *name, bool for_insert) {
    struct slot *tomb = NULL;
    for (size_t i = hash(name) & (n - 1);; i = (i + 1) & (n - 1)) {
        if (t[i].state == 0) return for_insert ? (tomb ? tomb : &t[i]) : NULL;
        if (t[i].state == 2) {
            if (!tomb) tomb = &t[i];
        } else if (!strcmp(t[i].rec.name, name)) {
            return &t[i];
        }
    }
}

static bool grow(void) {
    size_t n = cap ? (used * 4 >= cap ? cap * 2 : cap) : 256;
    struct slot *t =
        mmap(NULL, n * sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED) return false;
    for (size_t i = 0; i < cap; i++)
        if (table[i].state == 1) *find(t, n, table[i].rec.name, true) = table[i];
    if (table) munmap(table, cap * sizeof *table);
    table = t;
    cap = n;
    deleted = 0;
    return true;
}

static void add(const struct conc__shm_rec *r) {
    if ((used + deleted + 1) * 2 > cap && !grow()) return;
    struct slot *s = find(table, cap, r->name, true);
    if (s->state != 1) {
        if (s->state == 2) deleted--;
        used++;
    }
    s->state = 1;
    s->rec = *r;
}

static void del(const struct conc__shm_rec *r) {
    struct slot *s = cap ? find(table, cap, r->name, false) : NULL;
    if (!s || s->rec.dev != r->dev || s->rec.ino != r->ino) return;
    s->state = 2;
    used--;
    deleted++;
}

static void unlink_if_same(const struct conc__shm_rec *r) {
    char path[sizeof SHM_DIR + CONC__SHM_NAME_MAX];
    size_t d = sizeof SHM_DIR - 1, n = strlen(r->name);
    memcpy(path, SHM_DIR, d);
    memcpy(path + d, r->name, n + 1);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    bool same =
        fstat(fd, &st) == 0 && (uint64_t)st.st_dev == r->dev && (uint64_t)st.st_ino == r->ino;
    close(fd);
    if (same) unlink(path);
}

void conc__shm_tracker_main(int sock) {
    setsid();
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU, SIGQUIT};
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++) sigaction(ignored[i], &ign, NULL);
    /* Hold nothing of the creator's but this socket: another peer waiting for EOF on a pipe the
     * creator had open must see it when the creator dies, not when the tracker does. */
    if (sock > 0 && syscall(SYS_close_range, 0u, (unsigned)sock - 1, 0u) < 0)
        for (int fd = 0; fd < sock; fd++) close(fd);
    if (syscall(SYS_close_range, (unsigned)sock + 1, ~0u, 0u) < 0)
        for (int fd = sock + 1; fd < 65536; fd++) close(fd);
    if (chdir("/") < 0) {
        /* keep going: only a busy mount point is at stake */
    }
    pid_t me = getpid();
    send(sock, &me, sizeof me, MSG_NOSIGNAL);
    for (;;) {
        struct conc__shm_rec rec;
        ssize_t n = recv(sock, &rec, sizeof rec, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* EOF: the creator is gone */
        if (n != (ssize_t)sizeof rec) continue;
        rec.name[CONC__SHM_NAME_MAX] = 0;
        if (rec.op == '+')
            add(&rec);
        else if (rec.op == '-')
            del(&rec);
    }
    for (size_t i = 0; i < cap; i++)
        if (table[i].state == 1) unlink_if_same(&table[i].rec);
    _exit(0);
}
