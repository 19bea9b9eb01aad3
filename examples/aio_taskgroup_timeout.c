/* A TaskGroup inside a timeout scope, as
 *
 *   async with asyncio.timeout(1):
 *       async with asyncio.TaskGroup() as tg:
 *           tg.create_task(step("quick", 0.01)); tg.create_task(step("slow", 10))
 *
 * The scope expires, which cancels the body; the group's wait cancels the children that are still
 * running and returns only once all of them have finished (nothing is left behind); the scope's
 * exit turns its own cancellation into -ETIMEDOUT. Then a group whose child fails: the sibling is
 * cancelled and the error comes out of conc_taskgroup_wait. */
#include <stdint.h>
#include <stdio.h>
#include <conc.h>

struct step {
    const char *name;
    double seconds;
};

static void *step(void *arg) {
    struct step *s = arg;
    int r = conc_sleep(s->seconds);
    if (r == -ECANCELED) {
        printf("%s: cancelled, cleaning up\n", s->name);
        return conc_task_error(r); /* ends cancelled */
    }
    printf("%s: done\n", s->name);
    return NULL;
}

static void *fail(void *arg) {
    (void)arg;
    conc_sleep(0.01);
    printf("failing: -EIO\n");
    return conc_task_error(-EIO);
}

static void *amain(void *arg) {
    (void)arg;
    struct step quick = {"quick", 0.01}, slow = {"slow", 10};

    conc_timeout_t to;
    conc_timeout_enter(&to, 1.0);
    conc_taskgroup_t *g;
    conc_taskgroup_new(&g);
    conc_taskgroup_spawn(g, step, &quick, NULL, NULL);
    conc_taskgroup_spawn(g, step, &slow, NULL, NULL);
    int r = conc_taskgroup_wait(g); /* -ECANCELED: the scope expired */
    conc_taskgroup_free(g);
    int e = conc_timeout_exit(&to);
    if (e) r = e;
    printf("group under a 1 s timeout: %s\n", conc_errname(r));
    if (r != -ETIMEDOUT) return conc_task_error(-EPROTO);

    struct step sibling = {"sibling", 10};
    conc_taskgroup_new(&g);
    conc_taskgroup_spawn(g, fail, NULL, NULL, NULL);
    conc_taskgroup_spawn(g, step, &sibling, NULL, NULL);
    r = conc_taskgroup_wait(g);
    int errs[4];
    size_t n = conc_taskgroup_errors(g, errs, 4);
    conc_taskgroup_free(g);
    printf("group with a failing child: %s (%zu error)\n", conc_errname(r), n);
    return r == -EIO ? NULL : conc_task_error(-EPROTO);
}

int main(void) {
    return conc_run(amain, NULL, NULL) != 0;
}
