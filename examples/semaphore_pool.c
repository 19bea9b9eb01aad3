/* threading.Semaphore and BoundedSemaphore: at most N at a time.
 *
 * Six workers share a "connection pool" of two slots guarded by BoundedSemaphore(2): whoever gets
 * a slot works, the others wait. A bounded semaphore also catches a bug Python catches: releasing
 * more than was acquired. Python raises ValueError; conc returns -EOVERFLOW and releases nothing.
 * A plain Semaphore just counts up. */
#include <conc.h>
#include <stdio.h>

enum { WORKERS = 6, SLOTS = 2 };

static conc_sem_t pool = CONC_BOUNDED_SEM_INIT(SLOTS); /* threading.BoundedSemaphore(2) */
static conc_event_t never = CONC_EVENT_INIT;
static unsigned in_use, most_in_use;

static void *worker(void *arg) {
    (void)arg;
    conc_sem_acquire(&pool, CONC_FOREVER); /* with pool: */
    unsigned now = __atomic_add_fetch(&in_use, 1, __ATOMIC_SEQ_CST);
    unsigned seen = __atomic_load_n(&most_in_use, __ATOMIC_SEQ_CST);
    while (now > seen && !__atomic_compare_exchange_n(&most_in_use, &seen, now, false,
                                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    conc_event_wait(&never, 0.05); /* use the connection for 50 ms */
    __atomic_sub_fetch(&in_use, 1, __ATOMIC_SEQ_CST);
    conc_sem_release(&pool, 1);
    return NULL;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    conc_thread_t *t[WORKERS];
    for (int i = 0; i < WORKERS; i++) conc_thread_start(&t[i], worker, NULL, NULL);
    for (int i = 0; i < WORKERS; i++) {
        conc_thread_join(t[i], CONC_FOREVER, NULL);
        conc_thread_release(t[i]);
    }
    printf("%d workers, %d slots: at most %u worked at once\n", WORKERS, SLOTS, most_in_use);
    if (most_in_use > SLOTS) return 1;

    /* All slots are back; one more release is a bug. */
    int err = conc_sem_release(&pool, 1);
    printf("bounded: release past the initial value: %s, value stays %u\n", conc_errname(err),
           conc_sem_value(&pool));
    if (err != -EOVERFLOW || conc_sem_value(&pool) != SLOTS) return 1;

    /* Empty semaphore, acquire(timeout=0.1): -ETIMEDOUT */
    conc_sem_acquire(&pool, 0);
    conc_sem_acquire(&pool, 0);
    err = conc_sem_acquire(&pool, 0.1);
    printf("bounded: acquire on an empty semaphore, timeout 0.1: %s\n", conc_errname(err));
    if (err != -ETIMEDOUT) return 1;

    /* A plain Semaphore has no bound: release(n=3) on Semaphore(1) gives 4. */
    conc_sem_t plain;
    conc_sem_init(&plain, 1, 0);
    conc_sem_release(&plain, 3);
    printf("plain: Semaphore(1).release(3) -> value %u\n", conc_sem_value(&plain));
    return conc_sem_value(&plain) == 4 ? 0 : 1;
}
