/* Wire compatibility: a python3 child wraps its end of the socket in
 * multiprocessing.connection.Connection and talks to a conc Connection unchanged - both directions,
 * empty messages, messages above Python's 16 KiB single-write threshold, a pickled object (just
 * bytes to conc). Skipped when python3 is not installed. */
/* TEST_TIMEOUT: 120 */
#include "ipc_util.h"

static const char script[] = "import sys\n"
                             "from multiprocessing.connection import Connection\n"
                             "c = Connection(3)\n"
                             "while True:\n"
                             "    m = c.recv_bytes()\n"
                             "    if m == b'bye':\n"
                             "        break\n"
                             "    c.send_bytes(m[::-1])\n"
                             "c.send_bytes(b'')\n"
                             "c.send_bytes(b'x' * 100000)\n"
                             "c.send(('tuple', 1))\n"
                             "c.close()\n";

static pid_t start_python(conc_conn_t *mine, conc_conn_t *theirs) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        conc_conn_close(mine);
        int fd = conc_conn_fd(theirs);
        if (dup2(fd, 3) < 0) _exit(126); /* dup2 clears close-on-exec */
        execlp("python3", "python3", "-c", script, (char *)NULL);
        _exit(127);
    }
    conc_conn_close(theirs);
    return pid;
}

static void expect(conc_conn_t *c, const void *want, size_t n) {
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(c, &buf, &len, 60), 0);
    assert_int_equal(len, n);
    if (n) assert_memory_equal(buf, want, n);
    free(buf);
}

static void python_connection_talks_to_conc(void **state) {
    (void)state;
    if (system("python3 -c pass > /dev/null 2>&1") != 0) skip();
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    pid_t pid = start_python(a, b);
    assert_int_equal(conc_conn_send(a, "hello", 5), 0);
    expect(a, "olleh", 5);
    /* larger than 16 KiB: Python reads it the same, and answers with header and body apart */
    size_t n = 1 << 20;
    unsigned char *big = malloc(n), *rev = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (unsigned char)(i * 7 + i / 256);
    for (size_t i = 0; i < n; i++) rev[i] = big[n - 1 - i];
    assert_int_equal(conc_conn_send(a, big, n), 0);
    expect(a, rev, n);
    free(big);
    free(rev);
    assert_int_equal(conc_conn_send(a, "", 0), 0);
    expect(a, "", 0);
    assert_int_equal(conc_conn_send(a, "bye", 3), 0);
    expect(a, "", 0);
    char *xs = malloc(100000);
    memset(xs, 'x', 100000);
    expect(a, xs, 100000);
    free(xs);
    void *buf;
    size_t len;
    assert_int_equal(conc_conn_recv(a, &buf, &len, 60), 0);
    assert_true(len > 2 && ((unsigned char *)buf)[0] == 0x80); /* a pickle */
    assert_non_null(memmem(buf, len, "tuple", 5));
    free(buf);
    assert_int_equal(conc_conn_recv(a, &buf, &len, 60), CONC_ECLOSED);
    assert_int_equal(reap(pid), 0);
    conc_conn_close(a);
}

/* A one-way conc pipe: Python reads what conc sends on the receiving end's peer. */
static void python_reads_one_way_pipe(void **state) {
    (void)state;
    if (system("python3 -c pass > /dev/null 2>&1") != 0) skip();
    conc_conn_t *r, *w;
    assert_int_equal(conc_pipe(&r, &w, false), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        conc_conn_close(w);
        if (dup2(conc_conn_fd(r), 3) < 0) _exit(126);
        execlp("python3", "python3", "-c",
               "from multiprocessing.connection import Connection\n"
               "c = Connection(3, writable=False)\n"
               "assert c.recv_bytes() == b'one'\n"
               "assert c.recv_bytes() == b'two' * 10000\n"
               "try:\n"
               "    c.recv_bytes()\n"
               "except EOFError:\n"
               "    raise SystemExit(0)\n"
               "raise SystemExit(3)\n",
               (char *)NULL);
        _exit(127);
    }
    conc_conn_close(r);
    assert_int_equal(conc_conn_send(w, "one", 3), 0);
    char *two = malloc(30000);
    for (int i = 0; i < 10000; i++) memcpy(two + 3 * i, "two", 3);
    assert_int_equal(conc_conn_send(w, two, 30000), 0);
    free(two);
    conc_conn_close(w);
    assert_int_equal(reap(pid), 0);
}

CONC_TEST_MAIN(cmocka_unit_test(python_connection_talks_to_conc),
               cmocka_unit_test(python_reads_one_way_pipe))
