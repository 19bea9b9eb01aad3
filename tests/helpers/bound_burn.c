/* Workloads with a known character for the bound tests.
 *
 *   bound_burn [--threads N] [--seconds S]   burn CPU in N threads for S seconds (N = 1: in main;
 *                                            N > 1: N more threads, main only joins them)
 *   bound_burn --sleep S                     nanosleep S seconds
 *   bound_burn --pipe S                      read a pipe a child writes to after S seconds
 *   bound_burn --read-zero BYTES             read BYTES from /dev/zero
 *   bound_burn ... --exit N                  then exit with status N
 *
 * Burning runs for a wall-clock duration, not an iteration count, so the shape of the work is the
 * same under sanitizers and on a loaded machine: only how much gets done changes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static double seconds = 0.3;

static void *burn(void *arg) {
    (void)arg;
    volatile unsigned long x = 1;
    double end = now() + seconds;
    while (now() < end)
        for (int i = 0; i < 4096; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
    return NULL;
}

static int slow_pipe(double s) {
    int p[2];
    if (pipe(p) < 0) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        close(p[0]);
        nap(s);
        if (write(p[1], "x", 1) != 1) _exit(1);
        _exit(0);
    }
    close(p[1]);
    char c;
    ssize_t n;
    while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR) {
    }
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    return n == 1 ? 0 : 1;
}

static int read_zero(long long bytes) {
    static char buf[65536];
    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0) return 1;
    while (bytes > 0) {
        ssize_t n = read(fd, buf, bytes < (long long)sizeof buf ? (size_t)bytes : sizeof buf);
        if (n <= 0) break;
        bytes -= n;
    }
    close(fd);
    return bytes > 0;
}

int main(int argc, char **argv) {
    int threads = 1, status = 0, rc = 0;
    enum { BURN, SLEEP, PIPE, ZERO } mode = BURN;
    double arg = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--threads"))
            threads = atoi(v);
        else if (!strcmp(o, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(o, "--sleep"))
            mode = SLEEP, arg = atof(v);
        else if (!strcmp(o, "--pipe"))
            mode = PIPE, arg = atof(v);
        else if (!strcmp(o, "--read-zero"))
            mode = ZERO, arg = atof(v);
        else if (!strcmp(o, "--exit"))
            status = atoi(v);
        else {
            fprintf(stderr, "bound_burn: unknown option %s\n", o);
            return 2;
        }
    }
    switch (mode) {
    case SLEEP: nap(arg); break;
    case PIPE: rc = slow_pipe(arg); break;
    case ZERO: rc = read_zero((long long)arg); break;
    case BURN:
        if (threads <= 1) {
            burn(NULL);
            break;
        }
        pthread_t *t = calloc((size_t)threads, sizeof *t);
        for (int i = 0; i < threads; i++)
            if (pthread_create(&t[i], NULL, burn, NULL)) return 1;
        for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
        free(t);
        break;
    }
    return rc ? rc : status;
}
