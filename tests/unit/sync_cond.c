/* Condition: -EPERM without the lock, timeouts with the lock re-held, notify(n) waking exactly n of
 * several waiters, notify_all, wait_for, the RLock fully released and restored by wait, an external
 * Lock shared by two conditions (a bounded buffer), -EINTR with the lock re-held. */
#include "sync_util.h"

static void init_with_checks_its_lock(void **state) {
    (void)state;
    conc_cond_t c;
    conc_lock_t l = CONC_LOCK_INIT;
    assert_int_equal(conc_cond_init_with(&c, NULL), -EINVAL);
    assert_int_equal(conc_cond_init(&c, 0x20), -EINVAL);
    assert_int_equal(conc_cond_init_with(&c, &l), 0);
    assert_int_equal(conc_cond_acquire(&c, 0), 0);
    assert_true(conc_lock_locked(&l)); /* the condition's lock is that Lock */
    assert_int_equal(conc_cond_release(&c), 0);
    assert_false(conc_lock_locked(&l));
    assert_int_equal(conc_cond_release(&c), -EPERM);
}

static void *hold_and_report(void *arg) {
    conc_cond_t *c = arg;
    int r[3];
    r[0] = conc_cond_wait(c, 0);
    r[1] = conc_cond_notify(c, 1);
    r[2] = conc_cond_notify_all(c);
    return (void *)(intptr_t)(r[0] == -EPERM && r[1] == -EPERM && r[2] == -EPERM);
}

static void wait_and_notify_need_the_lock(void **state) {
    (void)state;
    conc_cond_t c = CONC_COND_INIT;
    assert_int_equal(conc_cond_wait(&c, 0), -EPERM);
    assert_int_equal(conc_cond_notify(&c, 1), -EPERM);
    assert_int_equal(conc_cond_notify_all(&c), -EPERM);
    /* an RLock must be held by the caller, not by another thread */
    assert_int_equal(conc_cond_acquire(&c, -1), 0);
    assert_int_equal((intptr_t)join_thread(start_thread(hold_and_report, &c)), 1);
    assert_int_equal(conc_cond_notify(&c, 1), 0);
    assert_int_equal(conc_cond_release(&c), 0);
    /* a Lock merely has to be held (Python's _is_owned for a Lock) */
    conc_lock_t l = CONC_LOCK_INIT;
    conc_cond_t d;
    assert_int_equal(conc_cond_init_with(&d, &l), 0);
    assert_int_equal(conc_cond_wait(&d, 0), -EPERM);
    assert_int_equal(conc_cond_notify(&d, 1), -EPERM);
    assert_int_equal(conc_lock_acquire(&l, -1), 0);
    assert_int_equal((intptr_t)join_thread(start_thread(hold_and_report, &d)), 0);
    assert_int_equal(conc_lock_release(&l), 0);
}

static bool never(void *arg) {
    (void)arg;
    return false;
}

static void timeouts_return_with_the_lock_held(void **state) {
    (void)state;
    conc_cond_t c = CONC_COND_INIT;
    assert_int_equal(conc_cond_acquire(&c, -1), 0);
    double t0 = conc_monotonic();
    assert_int_equal(conc_cond_wait(&c, 0), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 < 1);
    t0 = conc_monotonic();
    assert_int_equal(conc_cond_wait(&c, 0.1), -ETIMEDOUT);
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.1 && took < 5);
    t0 = conc_monotonic();
    assert_int_equal(conc_cond_wait_for(&c, never, NULL, 0.1), -ETIMEDOUT);
    took = conc_monotonic() - t0;
    assert_true(took >= 0.1 && took < 5);
    assert_int_equal(conc_cond_wait_for(&c, never, NULL, 0), -ETIMEDOUT);
    assert_int_equal(c._priv.nwait, 0);
    assert_int_equal(conc_cond_release(&c), 0);
    assert_int_equal(conc_cond_release(&c), -EPERM);
}

struct crowd {
    conc_cond_t c;
    int woken, failed;
};

static void *wait_once(void *arg) {
    struct crowd *w = arg;
    conc_cond_acquire(&w->c, -1);
    int r = conc_cond_wait(&w->c, 30);
    if (r == 0)
        w->woken++; /* under the condition's lock */
    else
        w->failed++;
    conc_cond_release(&w->c);
    return NULL;
}

/* Waiters registered and not yet granted a wake-up. */
static unsigned registered(conc_cond_t *c) {
    conc_cond_acquire(c, -1);
    unsigned n = c->_priv.nwait - c->_priv.tokens;
    conc_cond_release(c);
    return n;
}

static int woken(struct crowd *w) {
    conc_cond_acquire(&w->c, -1);
    int n = w->woken;
    conc_cond_release(&w->c);
    return n;
}

/* Once nobody holds a token, no further waiter can return 0 without another notify. */
static void assert_settled(struct crowd *w, int nwoken, unsigned nwaiting) {
    WAIT_UNTIL(woken(w) == nwoken);
    conc_cond_acquire(&w->c, -1);
    assert_int_equal(w->woken, nwoken);
    assert_int_equal(w->c._priv.tokens, 0);
    assert_int_equal(w->c._priv.nwait, nwaiting);
    assert_int_equal(w->failed, 0);
    conc_cond_release(&w->c);
}

static void notify_wakes_exactly_n(void **state) {
    (void)state;
    struct crowd w = {CONC_COND_INIT, 0, 0};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) t[i] = start_thread(wait_once, &w);
    WAIT_UNTIL(registered(&w.c) == 4);
    conc_cond_acquire(&w.c, -1);
    assert_int_equal(conc_cond_notify(&w.c, 1), 0);
    conc_cond_release(&w.c);
    assert_settled(&w, 1, 3);
    conc_cond_acquire(&w.c, -1);
    assert_int_equal(conc_cond_notify(&w.c, 2), 0);
    conc_cond_release(&w.c);
    assert_settled(&w, 3, 1);
    conc_cond_acquire(&w.c, -1);
    assert_int_equal(conc_cond_notify(&w.c, 5), 0); /* more than there are: just the one */
    assert_int_equal(w.c._priv.tokens, 1);
    conc_cond_release(&w.c);
    assert_settled(&w, 4, 0);
    for (int i = 0; i < 4; i++) join_thread(t[i]);
}

static void notify_all_wakes_everyone(void **state) {
    (void)state;
    struct crowd w = {CONC_COND_INIT, 0, 0};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) t[i] = start_thread(wait_once, &w);
    WAIT_UNTIL(registered(&w.c) == 3);
    conc_cond_acquire(&w.c, -1);
    assert_int_equal(conc_cond_notify_all(&w.c), 0);
    conc_cond_release(&w.c);
    assert_settled(&w, 3, 0);
    for (int i = 0; i < 3; i++) join_thread(t[i]);
}

static void notify_without_waiters_is_not_banked(void **state) {
    (void)state;
    conc_cond_t c = CONC_COND_INIT;
    conc_cond_acquire(&c, -1);
    assert_int_equal(conc_cond_notify(&c, 3), 0);
    assert_int_equal(conc_cond_notify_all(&c), 0);
    assert_int_equal(c._priv.tokens, 0);
    assert_int_equal(conc_cond_wait(&c, 0.05), -ETIMEDOUT);
    conc_cond_release(&c);
}

struct flagged {
    conc_cond_t c;
    int flag;
};

static bool flag_is_set(void *arg) {
    return ((struct flagged *)arg)->flag != 0;
}

static void *set_flag_later(void *arg) {
    struct flagged *f = arg;
    /* notify without the flag first (a spurious wake-up for wait_for), then for real */
    WAIT_UNTIL(registered(&f->c) == 1);
    conc_cond_acquire(&f->c, -1);
    conc_cond_notify_all(&f->c);
    conc_cond_release(&f->c);
    WAIT_UNTIL(registered(&f->c) == 1);
    conc_cond_acquire(&f->c, -1);
    f->flag = 1;
    conc_cond_notify_all(&f->c);
    conc_cond_release(&f->c);
    return NULL;
}

static void wait_for_waits_for_the_predicate(void **state) {
    (void)state;
    struct flagged f = {CONC_COND_INIT, 0};
    assert_int_equal(conc_cond_wait_for(&f.c, flag_is_set, &f, 0), -EPERM);
    pthread_t t = start_thread(set_flag_later, &f);
    conc_cond_acquire(&f.c, -1);
    assert_int_equal(conc_cond_wait_for(&f.c, flag_is_set, &f, 30), 0);
    assert_true(f.flag);
    /* true at once: no waiting, even with timeout 0 */
    assert_int_equal(conc_cond_wait_for(&f.c, flag_is_set, &f, 0), 0);
    conc_cond_release(&f.c);
    join_thread(t);
}

struct nested {
    conc_cond_t c;
    int entered;
};

static void *enter_and_notify(void *arg) {
    struct nested *n = arg;
    conc_cond_acquire(&n->c, -1); /* only possible because wait released every level */
    n->entered = 1;
    conc_cond_notify(&n->c, 1);
    conc_cond_release(&n->c);
    return NULL;
}

static bool entered(void *arg) {
    return ((struct nested *)arg)->entered;
}

static void wait_fully_releases_and_restores_an_rlock(void **state) {
    (void)state;
    struct nested n = {CONC_COND_INIT, 0};
    for (int i = 0; i < 3; i++) assert_int_equal(conc_cond_acquire(&n.c, -1), 0);
    pthread_t t = start_thread(enter_and_notify, &n);
    assert_int_equal(conc_cond_wait_for(&n.c, entered, &n, 30), 0);
    join_thread(t);
    for (int i = 0; i < 3; i++) assert_int_equal(conc_cond_release(&n.c), 0);
    assert_int_equal(conc_cond_release(&n.c), -EPERM);
}

/* queue.Queue's shape: one Lock, two conditions. */
enum { SLOTS = 4, ITEMS = 20000 };
struct buffer {
    conc_lock_t lock;
    conc_cond_t not_empty, not_full;
    int slot[SLOTS];
    int head, len;
    long sum;
};

static void *producer(void *arg) {
    struct buffer *b = arg;
    for (int i = 1; i <= ITEMS; i++) {
        conc_lock_acquire(&b->lock, -1);
        while (b->len == SLOTS)
            if (conc_cond_wait(&b->not_full, 30) != 0) return (void *)1;
        b->slot[(b->head + b->len++) % SLOTS] = i;
        conc_cond_notify(&b->not_empty, 1);
        conc_lock_release(&b->lock);
    }
    return NULL;
}

static void *consumer(void *arg) {
    struct buffer *b = arg;
    for (int i = 0; i < ITEMS; i++) {
        conc_lock_acquire(&b->lock, -1);
        while (b->len == 0)
            if (conc_cond_wait(&b->not_empty, 30) != 0) return (void *)1;
        b->sum += b->slot[b->head];
        b->head = (b->head + 1) % SLOTS;
        b->len--;
        conc_cond_notify(&b->not_full, 1);
        conc_lock_release(&b->lock);
    }
    return NULL;
}

static void bounded_buffer_with_two_conditions_on_one_lock(void **state) {
    (void)state;
    struct buffer *b = calloc(1, sizeof *b);
    assert_non_null(b);
    assert_int_equal(conc_lock_init(&b->lock, 0), 0);
    assert_int_equal(conc_cond_init_with(&b->not_empty, &b->lock), 0);
    assert_int_equal(conc_cond_init_with(&b->not_full, &b->lock), 0);
    pthread_t t[4] = {start_thread(producer, b), start_thread(producer, b),
                      start_thread(consumer, b), start_thread(consumer, b)};
    for (int i = 0; i < 4; i++) assert_null(join_thread(t[i]));
    assert_int_equal(b->sum, 2L * ITEMS * (ITEMS + 1) / 2);
    assert_int_equal(b->len, 0);
    free(b);
}

static int interrupted_wait(void *arg) {
    (void)arg;
    conc_cond_t c = CONC_COND_INIT;
    CHECK(conc_cond_acquire(&c, -1) == 0);
    CHECK(conc_cond_acquire(&c, -1) == 0);
    double t0 = conc_monotonic();
    CHECK(conc_cond_wait(&c, INTR_TIMEOUT) == -EINTR);
    CHECK(WOKEN_EARLY(t0));
    CHECK(c._priv.nwait == 0);
    /* re-held at the same depth */
    CHECK(conc_cond_release(&c) == 0);
    CHECK(conc_cond_release(&c) == 0);
    CHECK(conc_cond_release(&c) == -EPERM);
    conc_lock_t l = CONC_LOCK_INIT;
    conc_cond_t d;
    CHECK(conc_cond_init_with(&d, &l) == 0);
    CHECK(conc_lock_acquire(&l, -1) == 0);
    CHECK(conc_cond_wait(&d, 0.05) == -ETIMEDOUT);
    CHECK(conc_lock_locked(&l));
    return 0;
}

static void main_thread_wait_is_interrupted_and_relocks(void **state) {
    (void)state;
    run_interrupted(interrupted_wait, NULL);
}

CONC_TEST_MAIN(cmocka_unit_test(init_with_checks_its_lock),
               cmocka_unit_test(wait_and_notify_need_the_lock),
               cmocka_unit_test(timeouts_return_with_the_lock_held),
               cmocka_unit_test(notify_wakes_exactly_n),
               cmocka_unit_test(notify_all_wakes_everyone),
               cmocka_unit_test(notify_without_waiters_is_not_banked),
               cmocka_unit_test(wait_for_waits_for_the_predicate),
               cmocka_unit_test(wait_fully_releases_and_restores_an_rlock),
               cmocka_unit_test(bounded_buffer_with_two_conditions_on_one_lock),
               cmocka_unit_test(main_thread_wait_is_interrupted_and_relocks))
