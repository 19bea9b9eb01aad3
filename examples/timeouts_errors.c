/* Timeouts and errors: how Python's `timeout=` arguments and exceptions look in C.
 *
 * C has no exceptions, so every call that can fail returns 0 (or a documented non-negative value)
 * and a negative code on failure: -ETIMEDOUT where Python returns False or raises queue.Empty,
 * -EINTR where it raises KeyboardInterrupt, CONC_EBROKEN for BrokenBarrierError, and so on.
 * Timeouts are double seconds, as in Python: CONC_FOREVER (any negative value) is timeout=None,
 * 0 is blocking=False. */
#include <conc.h>
#include <stdio.h>

int main(int argc, char **argv) {
    conc_init(argc, argv);
    conc_lock_t lock = CONC_LOCK_INIT;
    conc_lock_acquire(&lock, CONC_FOREVER); /* lock.acquire() */

    /* lock.acquire(blocking=False) -> False  becomes  -ETIMEDOUT at once */
    int err = conc_lock_acquire(&lock, 0);
    printf("poll a held lock:      %d %s (\"%s\")\n", err, conc_errname(err), conc_strerror(err));

    /* lock.acquire(timeout=0.1) -> False after 0.1 s */
    double t0 = conc_monotonic();
    err = conc_lock_acquire(&lock, 0.1);
    double waited = conc_monotonic() - t0;
    printf("0.1 s timeout:         %s after %.2f s\n", conc_errname(err), waited);
    if (err != -ETIMEDOUT || waited < 0.1) return 1;

    conc_lock_release(&lock);
    /* releasing an unlocked lock: Python raises RuntimeError, conc returns -EPERM */
    err = conc_lock_release(&lock);
    printf("release unlocked lock: %s (\"%s\")\n", conc_errname(err), conc_strerror(err));
    if (err != -EPERM) return 1;

    /* the library's own codes sit below -4000, away from every errno value */
    int own[] = {CONC_EBROKEN, CONC_EOWNERDEAD};
    for (int i = 0; i < 2; i++)
        printf("%-15s = %d: %s\n", conc_errname(own[i]), own[i], conc_strerror(own[i]));

    /* a deadline turns "timeout" into "until": the time left shrinks, it is never restarted */
    double deadline = conc_deadline(0.05);
    while (!conc_deadline_expired(deadline)) {
        conc_event_t never = CONC_EVENT_INIT;
        conc_event_wait(&never, conc_deadline_remaining(deadline));
    }
    printf("deadline passed: %.3f s left\n", conc_deadline_remaining(deadline));
    return 0;
}
