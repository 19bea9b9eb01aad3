/* threading.Condition: a bounded producer/consumer queue, built the way queue.Queue is.
 *
 * One Lock, two conditions on it (not_empty, not_full), as queue.Queue does with
 * Condition(self.mutex). The rule is Python's: hold the lock to wait or notify; wait releases it
 * while sleeping and holds it again when it returns, also on timeout; always re-check the
 * predicate after waking (wait_for does the loop for you). */
#include <conc.h>
#include <stdio.h>

enum { CAP = 3, ITEMS = 20, CONSUMERS = 2 };

static struct {
    conc_lock_t mutex;
    conc_cond_t not_empty, not_full; /* both use mutex */
    int buf[CAP];
    int head, len;
} q = {.mutex = CONC_LOCK_INIT};

static bool has_room(void *arg) {
    (void)arg;
    return q.len < CAP;
}

static void put(int item) {
    conc_cond_acquire(&q.not_full, CONC_FOREVER);                  /* with not_full: */
    conc_cond_wait_for(&q.not_full, has_room, NULL, CONC_FOREVER); /* wait_for(has_room) */
    q.buf[(q.head + q.len++) % CAP] = item;
    conc_cond_notify(&q.not_empty, 1); /* same lock, so we may notify the other condition */
    conc_cond_release(&q.not_full);
}

static int get(void) {
    conc_cond_acquire(&q.not_empty, CONC_FOREVER);
    while (q.len == 0) conc_cond_wait(&q.not_empty, CONC_FOREVER); /* the explicit loop */
    int item = q.buf[q.head];
    q.head = (q.head + 1) % CAP;
    q.len--;
    conc_cond_notify(&q.not_full, 1);
    conc_cond_release(&q.not_empty);
    return item;
}

static void *producer(void *arg) {
    (void)arg;
    for (int i = 1; i <= ITEMS; i++) put(i);
    for (int i = 0; i < CONSUMERS; i++) put(-1); /* one "stop" per consumer */
    return NULL;
}

static void *consumer(void *arg) {
    long *sum = arg;
    for (int item; (item = get()) != -1;) *sum += item;
    return NULL;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    conc_cond_init_with(&q.not_empty, &q.mutex); /* Condition(mutex) */
    conc_cond_init_with(&q.not_full, &q.mutex);

    conc_thread_t *p, *c[CONSUMERS];
    long sums[CONSUMERS] = {0};
    for (int i = 0; i < CONSUMERS; i++) conc_thread_start(&c[i], consumer, &sums[i], NULL);
    conc_thread_start(&p, producer, NULL, NULL);
    conc_thread_join(p, CONC_FOREVER, NULL);
    conc_thread_release(p);
    long total = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        conc_thread_join(c[i], CONC_FOREVER, NULL);
        conc_thread_release(c[i]);
        printf("consumer %d took items summing to %ld\n", i, sums[i]);
        total += sums[i];
    }
    printf("total %ld (expected %d) through a queue of %d slots\n", total, ITEMS * (ITEMS + 1) / 2,
           CAP);
    if (total != ITEMS * (ITEMS + 1) / 2) return 1;

    /* wait(timeout) on an empty queue: -ETIMEDOUT (Python: False), and the lock is held again */
    conc_cond_acquire(&q.not_empty, CONC_FOREVER);
    int err = conc_cond_wait(&q.not_empty, 0.1);
    printf("wait(0.1) on an empty queue: %s, lock held again: %d\n", conc_errname(err),
           conc_lock_locked(&q.mutex));
    conc_cond_release(&q.not_empty);
    if (err != -ETIMEDOUT) return 1;

    /* notify without holding the lock: Python raises RuntimeError, conc returns -EPERM */
    err = conc_cond_notify(&q.not_empty, 1);
    printf("notify() without the lock: %s\n", conc_errname(err));
    return err == -EPERM ? 0 : 1;
}
