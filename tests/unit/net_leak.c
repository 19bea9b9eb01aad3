/* Opening and closing 10,000 connections to a streams server leaks no file descriptor (counted in
 * /proc/self/fd), whoever closes first; and the server's client tasks are all gone afterwards. */
/* TEST_TIMEOUT: 240 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include "conc.h"
#include "test.h"

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static void greet(conc_stream_t *s, void *arg) {
    (void)arg;
    char b[8];
    if (conc_stream_write(s, "hi\n", 3) < 0) return;
    /* every other client is closed by the server first, the rest by the client */
    conc_stream_read(s, b, sizeof b);
}

static void *leak_main(void *arg) {
    (void)arg;
    int before = count_fds();
    conc_server_t *srv;
    assert_int_equal(conc_start_server(NULL, "127.0.0.1", 0, greet, NULL, &srv), 0);
    int port = conc_server_port(srv);
    for (int i = 0; i < 10000; i++) {
        conc_stream_t *c;
        int r = conc_open_connection("127.0.0.1", port, &c);
        assert_int_equal(r, 0);
        char line[8];
        assert_int_equal(conc_stream_readline(c, line, sizeof line), 3);
        if (i % 2) conc_stream_write(c, "bye", 3);
        assert_int_equal(conc_stream_close(c), 0);
    }
    while (conc_server_clients(srv) > 0) assert_int_equal(conc_sleep(0.001), 0);
    conc_server_free(srv);
    assert_int_equal(count_fds(), before);
    return NULL;
}

static void ten_thousand_connections(void **state) {
    (void)state;
    int before = count_fds();
    assert_int_equal(conc_run(leak_main, NULL, NULL), 0);
    assert_int_equal(count_fds(), before);
}

CONC_TEST_MAIN(cmocka_unit_test(ten_thousand_connections))
