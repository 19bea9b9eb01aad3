/* TaskGroup: siblings cancelled on the first failure, errors collected, nothing orphaned, the
 * parent's cancellation reaches the children, the group's own cancellation of the parent is taken
 * back. */
#include <stdint.h>
#include "conc.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

static int finished, cancelled_children;

static void *child_ms(void *arg) {
    int r = conc_sleep(I(arg) / 1000.0);
    if (r == -ECANCELED) {
        /* cleanup that takes a while: wait must still wait for it */
        conc_task_uncancel();
        conc_sleep(0.02);
        cancelled_children++;
        return conc_task_error(-ECANCELED);
    }
    finished++;
    return V(I(arg));
}

static void *child_fail(void *arg) {
    conc_sleep(I(arg) / 1000.0);
    return conc_task_error(-EIO);
}

static void *child_fail_other(void *arg) {
    conc_sleep(I(arg) / 1000.0);
    return conc_task_error(-EPIPE);
}

static void *all_succeed(void *arg) {
    (void)arg;
    finished = 0;
    conc_taskgroup_t *g;
    assert_int_equal(conc_taskgroup_new(&g), 0);
    conc_task_t *t3;
    for (int i = 1; i <= 3; i++)
        assert_int_equal(conc_taskgroup_spawn(g, child_ms, V(i * 5), NULL, i == 3 ? &t3 : NULL), 0);
    assert_int_equal(conc_taskgroup_wait(g), 0);
    assert_int_equal(finished, 3);
    void *v;
    assert_int_equal(conc_future_result(conc_task_future(t3), &v), 0);
    assert_int_equal(I(v), 15);
    assert_int_equal(conc_taskgroup_spawn(g, child_ms, V(1), NULL, NULL), CONC_ECLOSED);
    conc_taskgroup_free(g);
    return V(1);
}

static void a_group_waits_for_all_its_children(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(all_succeed, NULL, &res), 0);
    assert_int_equal(I(res), 1);
}

static int body_await;
static void *first_failure(void *arg) {
    (void)arg;
    finished = cancelled_children = 0;
    conc_taskgroup_t *g;
    conc_taskgroup_new(&g);
    conc_taskgroup_spawn(g, child_ms, V(3600 * 1000), NULL, NULL);
    conc_taskgroup_spawn(g, child_ms, V(3600 * 1000), NULL, NULL);
    conc_taskgroup_spawn(g, child_fail, V(10), NULL, NULL);
    conc_taskgroup_spawn(g, child_fail_other, V(10), NULL, NULL);
    /* the body waits for something else: the failure interrupts it */
    body_await = conc_sleep(3600);
    assert_int_equal(conc_taskgroup_spawn(g, child_ms, V(1), NULL, NULL), CONC_ECLOSED);
    int r = conc_taskgroup_wait(g);
    assert_int_equal(r, -EIO);
    int errs[4];
    size_t n = conc_taskgroup_errors(g, errs, 4);
    /* the second failing child runs in the same iteration: its error is collected too, unless it
     * was cancelled first */
    assert_true(n >= 1 && n <= 2);
    assert_int_equal(errs[0], -EIO);
    if (n == 2) assert_int_equal(errs[1], -EPIPE);
    assert_int_equal(cancelled_children, 2); /* siblings cancelled and finished */
    conc_taskgroup_free(g);
    /* the group's cancellation of the parent was taken back: the parent is not cancelled */
    assert_int_equal(conc_task_cancelling(conc_task_current()), 0);
    assert_int_equal(conc_sleep(0.001), 0);
    return V(2);
}

static void the_first_failure_cancels_siblings_and_the_body(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(first_failure, NULL, &res), 0);
    assert_int_equal(I(res), 2);
    assert_int_equal(body_await, -ECANCELED);
}

/* Cancelling the parent from outside cancels the children; wait returns -ECANCELED after they all
 * finished and the parent ends cancelled. */
static int parent_wait_result;
static void *parent_with_group(void *arg) {
    (void)arg;
    conc_taskgroup_t *g;
    conc_taskgroup_new(&g);
    for (int i = 0; i < 3; i++) conc_taskgroup_spawn(g, child_ms, V(3600 * 1000), NULL, NULL);
    parent_wait_result = conc_taskgroup_wait(g); /* cancelled while waiting */
    conc_taskgroup_free(g);
    return V(1);
}

static void *cancel_the_parent(void *arg) {
    (void)arg;
    cancelled_children = 0;
    conc_task_t *p = conc_task_spawn(NULL, parent_with_group, NULL, NULL);
    conc_sleep(0.01);
    conc_task_cancel(p);
    assert_int_equal(conc_await(conc_task_future(p), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(parent_wait_result, -ECANCELED);
    assert_int_equal(cancelled_children, 3);
    conc_task_release(p);
    return NULL;
}

static void cancelling_the_parent_cancels_the_children(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_the_parent, NULL, NULL), 0);
}

/* Parent cancelled while in the body (not yet in wait): the body's await returns -ECANCELED, wait
 * cancels the children and returns -ECANCELED. */
static void *parent_body_cancelled(void *arg) {
    (void)arg;
    conc_taskgroup_t *g;
    conc_taskgroup_new(&g);
    for (int i = 0; i < 2; i++) conc_taskgroup_spawn(g, child_ms, V(3600 * 1000), NULL, NULL);
    int r = conc_sleep(3600);
    assert_int_equal(r, -ECANCELED);
    parent_wait_result = conc_taskgroup_wait(g);
    conc_taskgroup_free(g);
    return NULL;
}

static void *cancel_in_body(void *arg) {
    (void)arg;
    cancelled_children = 0;
    conc_task_t *p = conc_task_spawn(NULL, parent_body_cancelled, NULL, NULL);
    conc_sleep(0.01);
    conc_task_cancel(p);
    assert_int_equal(conc_await(conc_task_future(p), NULL), -ECANCELED);
    conc_task_uncancel();
    assert_int_equal(parent_wait_result, -ECANCELED);
    assert_int_equal(cancelled_children, 2);
    conc_task_release(p);
    return NULL;
}

static void a_cancelled_body_cancels_the_children_at_wait(void **state) {
    (void)state;
    assert_int_equal(conc_run(cancel_in_body, NULL, NULL), 0);
}

/* Freeing a group without waiting waits (in the parent): nothing orphaned. */
static void *free_without_wait(void *arg) {
    (void)arg;
    finished = 0;
    conc_taskgroup_t *g;
    conc_taskgroup_new(&g);
    conc_taskgroup_spawn(g, child_ms, V(10), NULL, NULL);
    conc_taskgroup_free(g);
    assert_int_equal(finished, 1);
    return NULL;
}

static void freeing_a_group_waits_for_it(void **state) {
    (void)state;
    assert_int_equal(conc_run(free_without_wait, NULL, NULL), 0);
}

/* Children may spawn siblings into the group while the parent waits. */
static conc_taskgroup_t *shared_group;
static void *spawner_child(void *arg) {
    int depth = I(arg);
    finished++;
    if (depth > 0) conc_taskgroup_spawn(shared_group, spawner_child, V(depth - 1), NULL, NULL);
    conc_sleep(0.001);
    return NULL;
}

static void *nested_spawns(void *arg) {
    (void)arg;
    finished = 0;
    conc_taskgroup_new(&shared_group);
    conc_taskgroup_spawn(shared_group, spawner_child, V(5), NULL, NULL);
    assert_int_equal(conc_taskgroup_wait(shared_group), 0);
    assert_int_equal(finished, 6);
    conc_taskgroup_free(shared_group);
    assert_int_equal(conc_taskgroup_new(NULL), -EINVAL);
    return NULL;
}

static void children_may_spawn_siblings_while_the_parent_waits(void **state) {
    (void)state;
    assert_int_equal(conc_run(nested_spawns, NULL, NULL), 0);
    conc_taskgroup_t *g;
    assert_int_equal(conc_taskgroup_new(&g), -EPERM); /* outside a task */
}

CONC_TEST_MAIN(cmocka_unit_test(a_group_waits_for_all_its_children),
               cmocka_unit_test(the_first_failure_cancels_siblings_and_the_body),
               cmocka_unit_test(cancelling_the_parent_cancels_the_children),
               cmocka_unit_test(a_cancelled_body_cancels_the_children_at_wait),
               cmocka_unit_test(freeing_a_group_waits_for_it),
               cmocka_unit_test(children_may_spawn_siblings_while_the_parent_waits))
