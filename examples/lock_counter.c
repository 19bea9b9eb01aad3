/* threading.Lock: a mutex with no owner.
 *
 * Four threads add to one counter; `with lock:` becomes acquire ... release around the critical
 * section. As in Python, the lock has no owner: any thread may release it, which makes it usable
 * as a one-shot signal between threads (shown at the end). The uncontended acquire is one atomic
 * compare-and-swap, no system call. */
#include <conc.h>
#include <stdio.h>

static conc_lock_t lock = CONC_LOCK_INIT;
static long counter;

enum { THREADS = 4, ROUNDS = 50000 };

static void *add(void *arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        conc_lock_acquire(&lock, CONC_FOREVER); /* with lock: */
        counter++;                              /*     counter += 1 */
        conc_lock_release(&lock);
    }
    return NULL;
}

static conc_lock_t handoff = CONC_LOCK_INIT;

static void *releaser(void *arg) {
    (void)arg;
    printf("releaser: releasing a lock the main thread acquired\n");
    conc_lock_release(&handoff); /* legal for a Lock (not for an RLock) */
    return NULL;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    conc_thread_t *t[THREADS];
    for (int i = 0; i < THREADS; i++) conc_thread_start(&t[i], add, NULL, NULL);
    for (int i = 0; i < THREADS; i++) {
        conc_thread_join(t[i], CONC_FOREVER, NULL);
        conc_thread_release(t[i]);
    }
    printf("counter = %ld (expected %d)\n", counter, THREADS * ROUNDS);
    if (counter != THREADS * ROUNDS) return 1;

    /* lock.locked(), and acquire(blocking=False) on a held lock */
    conc_lock_acquire(&handoff, CONC_FOREVER);
    printf("locked() = %d, acquire(timeout=0) = %s\n", conc_lock_locked(&handoff),
           conc_errname(conc_lock_acquire(&handoff, 0)));

    /* Another thread releases it; our second acquire then succeeds. */
    conc_thread_t *r;
    conc_thread_start(&r, releaser, NULL, NULL);
    int err = conc_lock_acquire(&handoff, 5.0);
    printf("main: acquired again after the other thread released it: %s\n", conc_errname(err));
    conc_thread_join(r, CONC_FOREVER, NULL);
    conc_thread_release(r);
    conc_lock_release(&handoff);
    return err == 0 ? 0 : 1;
}
