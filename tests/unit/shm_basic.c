/* SharedMemory: create named and generated, -EEXIST, attach sees the creator's bytes and never
 * unlinks, -ENOENT, names with and without the leading '/', bad names and sizes, unlink from
 * creator or attacher, and a name reused after unlink that an old handle must not remove. */
#include "ipc_util.h"
#include <sys/stat.h>

static bool in_dev_shm(const char *name) {
    char path[400];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    return access(path, F_OK) == 0;
}

static char *unique(const char *tag) {
    static char name[64];
    snprintf(name, sizeof name, "conc_test_%s_%d", tag, (int)getpid());
    return name;
}

static void create_attach_unlink(void **state) {
    (void)state;
    char *name = unique("a");
    conc_shm_t *s, *t;
    assert_int_equal(conc_shm_create(&s, name, 10000), 0);
    assert_string_equal(conc_shm_name(s), name);
    assert_int_equal(conc_shm_size(s), 10000);
    assert_true(in_dev_shm(name));
    memcpy(conc_shm_buf(s), "written by the creator", 23);
    assert_int_equal(conc_shm_create(&t, name, 10), -EEXIST);
    assert_int_equal(conc_shm_attach(&t, name), 0);
    assert_int_equal(conc_shm_size(t), 10000);
    assert_string_equal(conc_shm_buf(t), "written by the creator");
    ((char *)conc_shm_buf(t))[0] = 'W';
    assert_int_equal(((char *)conc_shm_buf(s))[0], 'W');
    conc_shm_close(t); /* closing an attachment leaves the name */
    assert_true(in_dev_shm(name));
    assert_int_equal(conc_shm_unlink(s), 0);
    assert_false(in_dev_shm(name));
    assert_int_equal(conc_shm_attach(&t, name), -ENOENT);
    assert_int_equal(conc_shm_unlink(s), -ENOENT);
    assert_int_equal(((char *)conc_shm_buf(s))[0], 'W'); /* the mapping outlives the name */
    conc_shm_close(s);
}

static void generated_names(void **state) {
    (void)state;
    conc_shm_t *s[8];
    for (int i = 0; i < 8; i++) {
        assert_int_equal(conc_shm_create(&s[i], NULL, 1), 0);
        const char *n = conc_shm_name(s[i]);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "conc_%d_", (int)getpid());
        assert_true(strncmp(n, prefix, strlen(prefix)) == 0);
        assert_null(strchr(n, '/'));
        assert_true(in_dev_shm(n));
        for (int k = 0; k < i; k++) assert_string_not_equal(n, conc_shm_name(s[k]));
    }
    for (int i = 0; i < 8; i++) {
        char n[300];
        snprintf(n, sizeof n, "%s", conc_shm_name(s[i]));
        assert_int_equal(conc_shm_unlink(s[i]), 0);
        conc_shm_close(s[i]);
        assert_false(in_dev_shm(n));
    }
}

static void leading_slash_and_bad_names(void **state) {
    (void)state;
    char slashed[80];
    snprintf(slashed, sizeof slashed, "/%s", unique("slash"));
    conc_shm_t *s, *t;
    assert_int_equal(conc_shm_create(&s, slashed, 64), 0);
    assert_string_equal(conc_shm_name(s), slashed + 1);
    assert_int_equal(conc_shm_attach(&t, slashed + 1), 0);
    conc_shm_close(t);
    assert_int_equal(conc_shm_attach(&t, slashed), 0);
    conc_shm_close(t);
    assert_int_equal(conc_shm_unlink(s), 0);
    conc_shm_close(s);
    char longname[300];
    memset(longname, 'n', 299);
    longname[299] = 0;
    assert_int_equal(conc_shm_create(&s, longname, 64), -ENAMETOOLONG);
    assert_int_equal(conc_shm_create(&s, "", 64), -EINVAL);
    assert_int_equal(conc_shm_create(&s, "/", 64), -EINVAL);
    assert_int_equal(conc_shm_create(&s, "a/b", 64), -EINVAL);
    assert_int_equal(conc_shm_create(&s, "..", 64), -EINVAL);
    assert_int_equal(conc_shm_create(&s, unique("zero"), 0), -EINVAL);
    assert_false(in_dev_shm(unique("zero")));
    assert_int_equal(conc_shm_create(NULL, NULL, 64), -EINVAL);
    assert_int_equal(conc_shm_attach(&s, NULL), -EINVAL);
    assert_int_equal(conc_shm_attach(NULL, "x"), -EINVAL);
    assert_int_equal(conc_shm_attach(&s, "conc_test_no_such_segment"), -ENOENT);
    assert_int_equal(conc_shm_unlink(NULL), -EINVAL);
    assert_null(conc_shm_buf(NULL));
    assert_int_equal(conc_shm_size(NULL), 0);
    assert_null(conc_shm_name(NULL));
    conc_shm_close(NULL);
}

static void attacher_may_unlink(void **state) {
    (void)state;
    char *name = unique("att");
    conc_shm_t *s, *t;
    assert_int_equal(conc_shm_create(&s, name, 100), 0);
    assert_int_equal(conc_shm_attach(&t, name), 0);
    assert_int_equal(conc_shm_unlink(t), 0);
    assert_false(in_dev_shm(name));
    assert_int_equal(conc_shm_unlink(s), -ENOENT);
    conc_shm_close(t);
    conc_shm_close(s);
}

static void reused_name_is_not_removed_by_old_handle(void **state) {
    (void)state;
    char *name = unique("reuse");
    conc_shm_t *old, *att, *fresh;
    assert_int_equal(conc_shm_create(&old, name, 100), 0);
    assert_int_equal(conc_shm_attach(&att, name), 0);
    assert_int_equal(conc_shm_unlink(old), 0);
    assert_int_equal(conc_shm_create(&fresh, name, 200), 0);
    assert_int_equal(conc_shm_unlink(att), -ENOENT); /* att's segment is gone; fresh stays */
    assert_true(in_dev_shm(name));
    assert_int_equal(conc_shm_unlink(old), -ENOENT);
    assert_true(in_dev_shm(name));
    assert_int_equal(conc_shm_unlink(fresh), 0);
    conc_shm_close(att);
    conc_shm_close(old);
    conc_shm_close(fresh);
}

/* An attachment in a forked child writes; the parent sees it (MAP_SHARED). */
static int child_writes(void *arg) {
    conc_shm_t *s;
    CHECK(conc_shm_attach(&s, arg) == 0);
    strcpy(conc_shm_buf(s), "from the child");
    conc_shm_close(s);
    return 0;
}

static void shared_with_child(void **state) {
    (void)state;
    char *name = unique("child");
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, name, 4096), 0);
    assert_int_equal(reap(fork_body(child_writes, name)), 0);
    assert_string_equal(conc_shm_buf(s), "from the child");
    assert_true(in_dev_shm(name)); /* the child attached and exited: nothing unlinked (gh-82300) */
    assert_int_equal(conc_shm_unlink(s), 0);
    conc_shm_close(s);
}

CONC_TEST_MAIN(cmocka_unit_test(create_attach_unlink), cmocka_unit_test(generated_names),
               cmocka_unit_test(leading_slash_and_bad_names), cmocka_unit_test(attacher_may_unlink),
               cmocka_unit_test(reused_name_is_not_removed_by_old_handle),
               cmocka_unit_test(shared_with_child))
