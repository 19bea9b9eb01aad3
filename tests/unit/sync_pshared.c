/* Every primitive with CONC_PSHARED in a MAP_SHARED mapping, used by fork()ed children; and a
 * shared Lock or RLock whose holder is SIGKILLed: the next waiter takes it within a second and gets
 * CONC_EOWNERDEAD, and the lock then works as usual. Signals go only to children started here. */
#include "sync_util.h"
#include "internal/sync.h"

/* Fork a child running body(arg) and exiting with its result. */
static pid_t spawn(int (*body)(void *), void *arg) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(body(arg));
    return pid;
}

static void reap_killed(pid_t pid) {
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

enum { NCHILD = 3, ITERS = 5000 };

struct counted {
    conc_lock_t lock;
    conc_rlock_t rlock;
    long n;
};

static int count_with_lock(void *arg) {
    struct counted *c = arg;
    for (int i = 0; i < ITERS; i++) {
        CHECK(conc_lock_acquire(&c->lock, 30) == 0);
        c->n++;
        CHECK(conc_lock_release(&c->lock) == 0);
    }
    return 0;
}

static void lock_counts_across_processes(void **state) {
    (void)state;
    struct counted *c = shared_map(sizeof *c);
    assert_int_equal(conc_lock_init(&c->lock, CONC_PSHARED), 0);
    pid_t pid[NCHILD];
    for (int i = 0; i < NCHILD; i++) pid[i] = spawn(count_with_lock, c);
    assert_int_equal(count_with_lock(c), 0);
    for (int i = 0; i < NCHILD; i++) assert_int_equal(reap(pid[i]), 0);
    assert_int_equal(c->n, (long)(NCHILD + 1) * ITERS);
    assert_false(conc_lock_locked(&c->lock));
    munmap(c, sizeof *c);
}

static int count_with_rlock(void *arg) {
    struct counted *c = arg;
    for (int i = 0; i < ITERS; i++) {
        CHECK(conc_rlock_acquire(&c->rlock, 30) == 0);
        CHECK(conc_rlock_acquire(&c->rlock, 0) == 0);
        c->n++;
        CHECK(conc_rlock_release(&c->rlock) == 0);
        CHECK(conc_rlock_release(&c->rlock) == 0);
    }
    return 0;
}

static void rlock_counts_across_processes(void **state) {
    (void)state;
    struct counted *c = shared_map(sizeof *c);
    assert_int_equal(conc_rlock_init(&c->rlock, CONC_PSHARED), 0);
    pid_t pid[NCHILD];
    for (int i = 0; i < NCHILD; i++) pid[i] = spawn(count_with_rlock, c);
    assert_int_equal(count_with_rlock(c), 0);
    for (int i = 0; i < NCHILD; i++) assert_int_equal(reap(pid[i]), 0);
    assert_int_equal(c->n, (long)(NCHILD + 1) * ITERS);
    munmap(c, sizeof *c);
}

struct semboard {
    conc_sem_t items, bounded;
    long taken;
};

static int take_items(void *arg) {
    struct semboard *s = arg;
    for (int i = 0; i < ITERS; i++) {
        CHECK(conc_sem_acquire(&s->items, 30) == 0);
        __atomic_add_fetch(&s->taken, 1, __ATOMIC_RELAXED);
    }
    /* the bounded one: take and give back; one more give back overflows */
    CHECK(conc_sem_acquire(&s->bounded, 30) == 0);
    CHECK(conc_sem_release(&s->bounded, 1) == 0);
    return 0;
}

static void semaphore_across_processes(void **state) {
    (void)state;
    struct semboard *s = shared_map(sizeof *s);
    assert_int_equal(conc_sem_init(&s->items, 0, CONC_PSHARED), 0);
    assert_int_equal(conc_sem_init(&s->bounded, 1, CONC_PSHARED | CONC_BOUNDED), 0);
    pid_t pid[2] = {spawn(take_items, s), spawn(take_items, s)};
    for (int i = 0; i < 2 * ITERS; i += 2) assert_int_equal(conc_sem_release(&s->items, 2), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(reap(pid[i]), 0);
    assert_int_equal(s->taken, 2L * ITERS);
    assert_int_equal(conc_sem_value(&s->items), 0);
    assert_int_equal(conc_sem_release(&s->bounded, 1), -EOVERFLOW);
    assert_int_equal(conc_sem_value(&s->bounded), 1);
    munmap(s, sizeof *s);
}

struct evboard {
    conc_event_t go, done;
};

static int wait_then_answer(void *arg) {
    struct evboard *e = arg;
    CHECK(conc_event_wait(&e->go, 30) == 0);
    conc_event_set(&e->done);
    return 0;
}

static void event_set_by_parent_wakes_children(void **state) {
    (void)state;
    struct evboard *e = shared_map(sizeof *e);
    assert_int_equal(conc_event_init(&e->go, CONC_PSHARED), 0);
    assert_int_equal(conc_event_init(&e->done, CONC_PSHARED), 0);
    pid_t pid[2] = {spawn(wait_then_answer, e), spawn(wait_then_answer, e)};
    WAIT_UNTIL(LOAD(&e->go._priv.waiters) == 2); /* both asleep in another process */
    conc_event_set(&e->go);
    assert_int_equal(conc_event_wait(&e->done, 30), 0);
    for (int i = 0; i < 2; i++) assert_int_equal(reap(pid[i]), 0);
    munmap(e, sizeof *e);
}

struct condboard {
    conc_cond_t c;
    int flag, woken;
};

static int wait_for_flag(void *arg) {
    struct condboard *b = arg;
    CHECK(conc_cond_acquire(&b->c, 30) == 0);
    while (!b->flag) CHECK(conc_cond_wait(&b->c, 30) == 0);
    b->woken++;
    CHECK(conc_cond_release(&b->c) == 0);
    return 0;
}

static unsigned cond_waiting(struct condboard *b) {
    conc_cond_acquire(&b->c, -1);
    unsigned n = b->c._priv.nwait;
    conc_cond_release(&b->c);
    return n;
}

static void condition_notify_across_processes(void **state) {
    (void)state;
    struct condboard *b = shared_map(sizeof *b);
    assert_int_equal(conc_cond_init(&b->c, CONC_PSHARED), 0);
    pid_t pid[2] = {spawn(wait_for_flag, b), spawn(wait_for_flag, b)};
    WAIT_UNTIL(cond_waiting(b) == 2);
    conc_cond_acquire(&b->c, -1);
    b->flag = 1;
    assert_int_equal(conc_cond_notify(&b->c, 1), 0);
    conc_cond_release(&b->c);
    /* exactly one was let go (whichever exits first); the other one still waits */
    int st;
    pid_t first = waitpid(-1, &st, 0);
    assert_true(first == pid[0] || first == pid[1]);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    conc_cond_acquire(&b->c, -1);
    assert_int_equal(b->woken, 1);
    assert_int_equal(b->c._priv.nwait, 1);
    assert_int_equal(b->c._priv.tokens, 0);
    assert_int_equal(conc_cond_notify_all(&b->c), 0);
    conc_cond_release(&b->c);
    assert_int_equal(reap(first == pid[0] ? pid[1] : pid[0]), 0);
    assert_int_equal(b->woken, 2);
    munmap(b, sizeof *b);
}

enum { BROUNDS = 50 };
struct barboard {
    conc_barrier_t b;
    unsigned seen[BROUNDS];
    int actions;
};

static int count_action(void *arg) {
    ((struct barboard *)arg)->actions++; /* under the barrier's shared lock */
    return 0;
}

static int barrier_rounds(void *arg) {
    struct barboard *s = arg;
    for (int i = 0; i < BROUNDS; i++) {
        int idx = conc_barrier_wait(&s->b, 30);
        CHECK(idx >= 0 && idx < 3);
        __atomic_fetch_or(&s->seen[i], 1u << idx, __ATOMIC_RELAXED);
    }
    return 0;
}

static void barrier_across_three_processes(void **state) {
    (void)state;
    struct barboard *s = shared_map(sizeof *s);
    assert_int_equal(conc_barrier_init(&s->b, 3, count_action, s, CONC_PSHARED), 0);
    pid_t pid[3];
    for (int i = 0; i < 3; i++) pid[i] = spawn(barrier_rounds, s);
    for (int i = 0; i < 3; i++) assert_int_equal(reap(pid[i]), 0);
    for (int i = 0; i < BROUNDS; i++) assert_int_equal(s->seen[i], 7);
    assert_int_equal(s->actions, BROUNDS);
    assert_false(conc_barrier_broken(&s->b));
    munmap(s, sizeof *s);
}

/* ---- owner death ---- */

struct deathboard {
    conc_lock_t lock;
    conc_rlock_t rlock;
    double killed_at, got_at;
    int result;
};

/* Child: take the lock (rlock: twice), tell the parent, then wait to be killed. */
static pid_t holder(struct deathboard *d, bool rlock) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        int r = rlock ? conc_rlock_acquire(&d->rlock, 30) | conc_rlock_acquire(&d->rlock, 30)
                      : conc_lock_acquire(&d->lock, 30);
        if (r != 0 || write(p[1], "x", 1) != 1) _exit(1);
        for (;;) pause();
    }
    close(p[1]);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    return pid;
}

static struct deathboard *deathboard(void) {
    struct deathboard *d = shared_map(sizeof *d);
    assert_int_equal(conc_lock_init(&d->lock, CONC_PSHARED), 0);
    assert_int_equal(conc_rlock_init(&d->rlock, CONC_PSHARED), 0);
    return d;
}

static void lock_owner_killed_parent_recovers(void **state) {
    (void)state;
    struct deathboard *d = deathboard();
    pid_t pid = holder(d, false);
    assert_int_equal(conc_lock_acquire(&d->lock, 0.05), -ETIMEDOUT); /* alive: just held */
    double t0 = conc_monotonic();
    assert_int_equal(kill(pid, SIGKILL), 0);
    reap_killed(pid); /* gone from /proc entirely */
    assert_int_equal(conc_lock_acquire(&d->lock, 10), CONC_EOWNERDEAD);
    assert_true(conc_monotonic() - t0 < 1.5);
    /* ours now, and an ordinary lock again */
    assert_true(conc_lock_locked(&d->lock));
    assert_int_equal(conc_lock_acquire(&d->lock, 0), -ETIMEDOUT);
    assert_int_equal(conc_lock_release(&d->lock), 0);
    assert_int_equal(conc_lock_acquire(&d->lock, 0), 0);
    assert_int_equal(conc_lock_release(&d->lock), 0);
    assert_int_equal(conc_lock_release(&d->lock), -EPERM);
    munmap(d, sizeof *d);
}

static int wait_for_dead_holder(void *arg) {
    struct deathboard *d = arg;
    int r = conc_lock_acquire(&d->lock, 10);
    d->got_at = conc_monotonic();
    d->result = r;
    CHECK(r == CONC_EOWNERDEAD);
    CHECK(conc_lock_release(&d->lock) == 0);
    CHECK(conc_lock_acquire(&d->lock, 0) == 0);
    CHECK(conc_lock_release(&d->lock) == 0);
    return 0;
}

static void lock_owner_killed_sleeping_child_recovers(void **state) {
    (void)state;
    struct deathboard *d = deathboard();
    pid_t owner = holder(d, false);
    pid_t waiter = spawn(wait_for_dead_holder, d);
    WAIT_UNTIL(LOAD(&d->lock._priv.word) & CONC__MUTEX_WAITERS); /* the waiter sleeps */
    d->killed_at = conc_monotonic();
    assert_int_equal(kill(owner, SIGKILL), 0);
    /* not reaped yet: the waiter sees a zombie */
    assert_int_equal(reap(waiter), 0);
    assert_int_equal(d->result, CONC_EOWNERDEAD);
    assert_true(d->got_at - d->killed_at < 1.5);
    reap_killed(owner);
    assert_false(conc_lock_locked(&d->lock));
    munmap(d, sizeof *d);
}

static void lock_poll_takes_a_dead_owners_lock(void **state) {
    (void)state;
    struct deathboard *d = deathboard();
    pid_t pid = holder(d, false);
    assert_int_equal(kill(pid, SIGKILL), 0);
    reap_killed(pid);
    assert_int_equal(conc_lock_acquire(&d->lock, 0), CONC_EOWNERDEAD);
    assert_int_equal(conc_lock_release(&d->lock), 0);
    munmap(d, sizeof *d);
}

static void *take_lock_and_exit(void *arg) {
    return (void *)(intptr_t)conc_lock_acquire(arg, 30);
}

static void lock_outlives_the_thread_that_took_it(void **state) {
    (void)state;
    /* a Lock is owned by no thread: its process is alive, so it is simply still held */
    struct deathboard *d = deathboard();
    assert_int_equal((intptr_t)join_thread(start_thread(take_lock_and_exit, &d->lock)), 0);
    assert_int_equal(conc_lock_acquire(&d->lock, 0.3), -ETIMEDOUT);
    assert_int_equal(conc_lock_release(&d->lock), 0);
    munmap(d, sizeof *d);
}

static void rlock_owner_killed_parent_recovers(void **state) {
    (void)state;
    struct deathboard *d = deathboard();
    pid_t pid = holder(d, true);
    assert_int_equal(conc_rlock_acquire(&d->rlock, 0.05), -ETIMEDOUT);
    double t0 = conc_monotonic();
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(conc_rlock_acquire(&d->rlock, 10), CONC_EOWNERDEAD);
    assert_true(conc_monotonic() - t0 < 1.5);
    reap_killed(pid);
    /* depth 1, not the dead owner's 2 */
    assert_int_equal(conc_rlock_acquire(&d->rlock, 0), 0);
    assert_int_equal(conc_rlock_release(&d->rlock), 0);
    assert_int_equal(conc_rlock_release(&d->rlock), 0);
    assert_int_equal(conc_rlock_release(&d->rlock), -EPERM);
    assert_int_equal(LOAD(&d->rlock._priv.word), 0);
    munmap(d, sizeof *d);
}

static void *take_rlock_and_exit(void *arg) {
    return (void *)(intptr_t)conc_rlock_acquire(arg, 30);
}

static void rlock_owner_thread_exit_recovers(void **state) {
    (void)state;
    /* an RLock is owned by a thread: a shared one is recovered when that thread is gone */
    struct deathboard *d = deathboard();
    assert_int_equal((intptr_t)join_thread(start_thread(take_rlock_and_exit, &d->rlock)), 0);
    double t0 = conc_monotonic();
    assert_int_equal(conc_rlock_acquire(&d->rlock, 10), CONC_EOWNERDEAD);
    assert_true(conc_monotonic() - t0 < 1.5);
    assert_int_equal(conc_rlock_release(&d->rlock), 0);
    assert_int_equal(conc_rlock_release(&d->rlock), -EPERM);
    munmap(d, sizeof *d);
}

CONC_TEST_MAIN(cmocka_unit_test(lock_counts_across_processes),
               cmocka_unit_test(rlock_counts_across_processes),
               cmocka_unit_test(semaphore_across_processes),
               cmocka_unit_test(event_set_by_parent_wakes_children),
               cmocka_unit_test(condition_notify_across_processes),
               cmocka_unit_test(barrier_across_three_processes),
               cmocka_unit_test(lock_owner_killed_parent_recovers),
               cmocka_unit_test(lock_owner_killed_sleeping_child_recovers),
               cmocka_unit_test(lock_poll_takes_a_dead_owners_lock),
               cmocka_unit_test(lock_outlives_the_thread_that_took_it),
               cmocka_unit_test(rlock_owner_killed_parent_recovers),
               cmocka_unit_test(rlock_owner_thread_exit_recovers))
