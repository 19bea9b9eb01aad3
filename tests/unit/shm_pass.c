/* The SharedMemory passer: the segment's fd travels with SCM_RIGHTS, so the receiver maps the very
 * segment the sender holds - even after its name was unlinked - and is an attachment: its exit
 * unlinks nothing. A bad import closes the fds it was given. */
#include "pass_util.h"
#include "internal/shm.h"

static int child_maps_passed(void *arg) {
    int sock = *(int *)arg;
    conc_shm_t *s = pass_recv(sock, &conc__shm_passer);
    CHECK(s != NULL);
    CHECK(conc_shm_size(s) == 8192);
    CHECK(!strcmp(conc_shm_buf(s), "parent was here"));
    strcpy((char *)conc_shm_buf(s) + 4096, "child too");
    conc_shm_close(s);
    return 0;
}

static void passed_segment_is_the_same(void **state) {
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 8192), 0);
    strcpy(conc_shm_buf(s), "parent was here");
    char name[CONC__SHM_NAME_MAX + 1];
    strcpy(name, conc_shm_name(s));
    assert_int_equal(conc_shm_unlink(s), 0); /* the fd still leads to it */
    pid_t pid = fork_body(child_maps_passed, &sv[1]);
    assert_int_equal(pass_send(sv[0], &conc__shm_passer, s), 0);
    assert_int_equal(reap(pid), 0);
    assert_string_equal((char *)conc_shm_buf(s) + 4096, "child too");
    conc_shm_close(s);
    close(sv[0]);
    close(sv[1]);
}

static void passed_name_and_ownership(void **state) {
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 100), 0);
    assert_int_equal(pass_send(sv[0], &conc__shm_passer, s), 0);
    conc_shm_t *t = pass_recv(sv[1], &conc__shm_passer);
    assert_non_null(t);
    assert_string_equal(conc_shm_name(t), conc_shm_name(s));
    assert_int_equal(conc_shm_size(t), 100);
    assert_int_equal(t->creator, 0); /* an attachment */
    assert_int_equal(conc_shm_unlink(t), 0);
    assert_int_equal(conc_shm_unlink(s), -ENOENT);
    conc_shm_close(t);
    conc_shm_close(s);
    close(sv[0]);
    close(sv[1]);
}

static void bad_import_closes_fds(void **state) {
    (void)state;
    assert_int_equal(conc__shm_passer.kind, CONC_OBJ_KIND_SHM);
    int fd = dup(0);
    assert_null(conc__shm_passer.import_obj(&fd, 1, "short", 5));
    assert_false(fd_open(fd));
    /* a size larger than the object: mapping it would SIGBUS on first touch */
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 100), 0);
    int fds[CONC__PASS_MAX_FDS];
    unsigned char bytes[CONC__PASS_MAX_BYTES];
    size_t nfds = CONC__PASS_MAX_FDS, n = sizeof bytes;
    assert_int_equal(conc__shm_passer.export_obj(s, fds, &nfds, bytes, &n), 0);
    fd = dup(fds[0]);
    uint64_t big = 1 << 20;
    memcpy(bytes, &big, sizeof big);
    assert_null(conc__shm_passer.import_obj(&fd, 1, bytes, n));
    assert_false(fd_open(fd));
    assert_int_equal(conc_shm_unlink(s), 0);
    conc_shm_close(s);
}

CONC_TEST_MAIN(cmocka_unit_test(passed_segment_is_the_same),
               cmocka_unit_test(passed_name_and_ownership), cmocka_unit_test(bad_import_closes_fds))
