/* Interop: Python drives a conc manager over TCP and a unix socket - tests/manager_client.py,
 * every method plus errors, with msgpack encoded by a few lines of struct. Python 3.12+ connects
 * with multiprocessing.connection.Client itself; Python 3.11 (this machine's python3) runs the same
 * 3.12 handshake written out over a plain Connection, and its own Client - HMAC-MD5 only - must be
 * refused. Each interpreter that is missing is skipped. The C side and Python read each other's
 * writes in one dict. */
/* TEST_TIMEOUT: 120 */
#define _GNU_SOURCE
#include <glob.h>
#include <stdio.h>
#include <sys/wait.h>
#include "manager_util.h"

static const char key[] = "interop key \x01\x02";

static bool have(const char *python) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -c pass > /dev/null 2>&1", python);
    return system(cmd) == 0;
}

/* python3.12 on PATH, or a pyenv-installed 3.12 or later (pyenv's shim may not expose it). */
static const char *python312(void) {
    static char path[512];
    if (have("python3.12")) return "python3.12";
    const char *home = getenv("PYENV_ROOT"), *h = getenv("HOME");
    char pattern[400];
    snprintf(pattern, sizeof pattern, "%s%s/versions/3.1[2-9]*/bin/python3", home ? home : h,
             home ? "" : "/.pyenv");
    glob_t g;
    bool found = false;
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc && !found; i++)
            if (have(g.gl_pathv[i])) {
                snprintf(path, sizeof path, "%s", g.gl_pathv[i]);
                found = true;
            }
        globfree(&g);
    }
    return found ? path : "python3.12";
}

static int run_python(const char *python, const char *address, const char *mode) {
    char keyfile[] = "/tmp/conc-mkey-XXXXXX";
    int fd = mkstemp(keyfile);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, key, sizeof key - 1), (ssize_t)(sizeof key - 1));
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s/tests/manager_client.py '%s' %s %s", python, CONC_SOURCE_DIR,
             address, keyfile, mode);
    int st = system(cmd);
    unlink(keyfile);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void check(const char *python, const char *address, const char *mode) {
    if (!have(python)) {
        print_message("%s not found: skipped\n", python);
        return;
    }
    conc_manager_opts_t o = {.address = address,
                             .authkey = key,
                             .authkey_len = sizeof key - 1,
                             .method = CONC_START_FORK};
    conc_manager_t *m;
    assert_int_equal(conc_manager_start(&m, &o), 0);
    conc_mdict_t *d;
    assert_int_equal(conc_mdict_open(m, "shared", &d), 0);
    assert_int_equal(conc_mdict_set(d, "from-c", 6, "hello from C", 12), 0);
    assert_int_equal(run_python(python, conc_manager_address(m), mode), 0);
    if (strcmp(mode, "legacy") != 0) {
        void *v;
        size_t n;
        assert_int_equal(conc_mdict_get(d, "from-python", 11, &v, &n), 0);
        assert_true(n > 17 && !memcmp(v, "hello from Python", 17));
        free(v);
    }
    conc_mproxy_close(d);
    conc_manager_free(m);
}

static void python312_client(void **state) {
    (void)state;
    const char *py = python312();
    check(py, "tcp:127.0.0.1:0", "auto");
    check(py, NULL, "auto");
}

static void python311_manual_handshake(void **state) {
    (void)state;
    check("python3", "tcp:127.0.0.1:0", "manual");
    check("python3", NULL, "manual");
}

static void python311_client_refused(void **state) {
    (void)state;
    /* Only meaningful on an interpreter older than 3.12. */
    if (system("python3 -c 'import sys; sys.exit(sys.version_info >= (3, 12))' 2>/dev/null") != 0)
        skip();
    check("python3", "tcp:127.0.0.1:0", "legacy");
}

PROCESS_TEST_MAIN(cmocka_unit_test(python312_client), cmocka_unit_test(python311_manual_handshake),
                  cmocka_unit_test(python311_client_refused))
