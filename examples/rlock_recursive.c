/* threading.RLock: a lock its owner may take again.
 *
 * A method that holds the lock can call another method that takes it too: with a plain Lock that
 * is a self-deadlock, with an RLock the owner just counts up and down. Unlike a Lock, an RLock has
 * an owner: only the thread that holds it may release it (Python raises RuntimeError; conc
 * returns -EPERM). */
#include <conc.h>
#include <stdio.h>

struct account {
    conc_rlock_t lock;
    long balance;
};

static void deposit(struct account *a, long n) {
    conc_rlock_acquire(&a->lock, CONC_FOREVER);
    a->balance += n;
    conc_rlock_release(&a->lock);
}

static int withdraw(struct account *a, long n) {
    conc_rlock_acquire(&a->lock, CONC_FOREVER);
    int ok = a->balance >= n;
    if (ok) a->balance -= n;
    conc_rlock_release(&a->lock);
    return ok;
}

/* Holds the lock across both calls, so nobody sees the money half-moved; each call takes the
 * lock again inside, which an RLock allows. */
static int transfer(struct account *from, struct account *to, long n) {
    conc_rlock_acquire(&from->lock, CONC_FOREVER);
    int ok = withdraw(from, n);
    if (ok) deposit(to, n);
    conc_rlock_release(&from->lock);
    return ok;
}

static struct account a = {CONC_RLOCK_INIT, 100}, b = {CONC_RLOCK_INIT, 0};

static void *intruder(void *arg) {
    (void)arg;
    int err = conc_rlock_release(&a.lock); /* not the owner */
    printf("another thread releasing the RLock: %s\n", conc_errname(err));
    return (void *)(long)err;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    for (int i = 0; i < 3; i++) transfer(&a, &b, 30);
    printf("after 3 transfers of 30: a = %ld, b = %ld\n", a.balance, b.balance);
    if (a.balance != 10 || b.balance != 90) return 1;

    /* Taken three times, released three times; the owner is checked on release. */
    for (int i = 0; i < 3; i++) conc_rlock_acquire(&a.lock, CONC_FOREVER);
    conc_thread_t *t;
    void *result;
    conc_thread_start(&t, intruder, NULL, NULL);
    conc_thread_join(t, CONC_FOREVER, &result);
    conc_thread_release(t);
    for (int i = 0; i < 3; i++) conc_rlock_release(&a.lock);
    int err = conc_rlock_release(&a.lock); /* one release too many */
    printf("releasing once more than acquired: %s\n", conc_errname(err));

    /* The same nesting on a plain Lock would hang forever; with a timeout it shows. */
    conc_lock_t plain = CONC_LOCK_INIT;
    conc_lock_acquire(&plain, CONC_FOREVER);
    int again = conc_lock_acquire(&plain, 0.1);
    printf("a plain Lock taken twice by its holder: %s (would deadlock without a timeout)\n",
           conc_errname(again));
    conc_lock_release(&plain);
    return (long)result == -EPERM && err == -EPERM && again == -ETIMEDOUT ? 0 : 1;
}
