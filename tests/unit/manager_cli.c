/* `conc manager serve`: started as a command, it prints its real address, serves a C client over
 * TCP, exits 0 on a shutdown request and 130 on SIGINT (removing its unix socket), and refuses a
 * missing key file or a bad address. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include "manager_util.h"

#define CLI CONC_BINARY_DIR "/tools/conc/conc"

static const char key[] = "cli key";

static void keyfile(char *path) {
    strcpy(path, "/tmp/conc-mcli-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, key, sizeof key - 1), (ssize_t)(sizeof key - 1));
    close(fd);
}

/* Start the server; *address gets what it printed. */
static pid_t serve(const char *address, const char *kf, char *out, size_t cap) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(CLI, "conc", "manager", "serve", "--address", address, "--authkey-file", kf,
              (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    const char *pre = "conc manager: serving on ";
    assert_true(!strncmp(line, pre, strlen(pre)));
    snprintf(out, cap, "%s", line + strlen(pre));
    out[strcspn(out, "\n")] = '\0';
    return pid;
}

static int status(pid_t pid) {
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void serve_tcp_then_shutdown(void **state) {
    (void)state;
    char kf[32], address[256];
    keyfile(kf);
    pid_t pid = serve("tcp:127.0.0.1:0", kf, address, sizeof address);
    assert_true(!strncmp(address, "tcp:127.0.0.1:", 14) && strcmp(address, "tcp:127.0.0.1:0"));
    conc_manager_t *m;
    assert_int_equal(conc_manager_connect(&m, address, key, sizeof key - 1), 0);
    conc_mdict_t *d;
    assert_int_equal(conc_mdict_open(m, "d", &d), 0);
    assert_int_equal(conc_mdict_set(d, "k", 1, "v", 1), 0);
    conc_mproxy_close(d);
    assert_int_equal(conc_manager_shutdown(m), 0);
    conc_manager_free(m);
    assert_int_equal(status(pid), 0);
    unlink(kf);
}

static void sigint_stops_and_cleans_up(void **state) {
    (void)state;
    char kf[32], address[256], path[64];
    keyfile(kf);
    snprintf(path, sizeof path, "unix:/tmp/conc-mcli-%d.sock", (int)getpid());
    pid_t pid = serve(path, kf, address, sizeof address);
    assert_string_equal(address, path);
    assert_int_equal(access(path + 5, F_OK), 0);
    kill(pid, SIGINT);
    assert_int_equal(status(pid), 130);
    assert_int_equal(access(path + 5, F_OK), -1);
    unlink(kf);
}

static void bad_arguments(void **state) {
    (void)state;
    char kf[32];
    keyfile(kf);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s manager serve --address tcp:127.0.0.1:0 2>/dev/null", CLI);
    int st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 2);
    snprintf(cmd, sizeof cmd,
             "%s manager serve --address tcp:127.0.0.1:0 --authkey-file /nonexistent 2>/dev/null",
             CLI);
    st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 1);
    snprintf(cmd, sizeof cmd, "%s manager serve --address nonsense --authkey-file %s 2>/dev/null",
             CLI, kf);
    st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 1);
    unlink(kf);
}

PROCESS_TEST_MAIN(cmocka_unit_test(serve_tcp_then_shutdown),
                  cmocka_unit_test(sigint_stops_and_cleans_up), cmocka_unit_test(bad_arguments))
