/* multiprocessing.Lock: the same conc_lock_t, made CONC_PSHARED and placed in shared memory.
 *
 * Part 1: forked children add to one counter in a MAP_SHARED mapping under a process-shared lock.
 * The lock is a futex word inside the mapping, with no pointers, so it works wherever the mapping
 * lands in each process.
 *
 * Part 2: a child is SIGKILLed while it holds the lock. SIGKILL cannot be caught, so the child
 * cannot clean up. CPython's multiprocessing.Lock is a POSIX semaphore with no notion of an owner,
 * so there everyone else waits forever (the root of gh-87971). A process-shared conc lock records
 * its owner: the next acquire notices the owner is dead, takes the lock and returns
 * CONC_EOWNERDEAD, meaning "you hold it now, but check the data it protects". */
#include <conc.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CHILDREN = 3, ROUNDS = 20000 };

struct shared {
    conc_lock_t lock;
    conc_event_t holding; /* part 2: "the child has the lock now" */
    long counter;
};

int main(int argc, char **argv) {
    conc_init(argc, argv);
    struct shared *s =
        mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) return 1;
    conc_lock_init(&s->lock, CONC_PSHARED);
    conc_event_init(&s->holding, CONC_PSHARED);

    fflush(stdout); /* children must not inherit (and print again) our buffered output */
    for (int i = 0; i < CHILDREN; i++) {
        if (fork() == 0) {
            for (int r = 0; r < ROUNDS; r++) {
                conc_lock_acquire(&s->lock, CONC_FOREVER);
                s->counter++;
                conc_lock_release(&s->lock);
            }
            _exit(0);
        }
    }
    for (int i = 0; i < CHILDREN; i++) wait(NULL);
    printf("%d processes x %d increments: counter = %ld\n", CHILDREN, ROUNDS, s->counter);
    if (s->counter != CHILDREN * ROUNDS) return 1;

    pid_t victim = fork();
    if (victim == 0) {
        conc_lock_acquire(&s->lock, CONC_FOREVER);
        s->counter = -1; /* half-way through an update... */
        conc_event_set(&s->holding);
        pause(); /* ...and never finishes it */
        _exit(0);
    }
    conc_event_wait(&s->holding, 10.0);
    kill(victim, SIGKILL);
    int status;
    waitpid(victim, &status, 0);
    printf("child %s while holding the lock\n",
           WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? "SIGKILLed" : "ended");

    int err = conc_lock_acquire(&s->lock, 5.0);
    printf("parent: acquire -> %s (\"%s\")\n", conc_errname(err), conc_strerror(err));
    if (err != CONC_EOWNERDEAD) return 1;
    if (s->counter < 0) s->counter = CHILDREN * ROUNDS; /* repair what the dead owner left */
    conc_lock_release(&s->lock);

    err = conc_lock_acquire(&s->lock, 0); /* the lock is an ordinary lock again */
    printf("parent: recovered; next acquire -> %s, counter = %ld\n", conc_errname(err), s->counter);
    conc_lock_release(&s->lock);
    munmap(s, sizeof *s);
    return err == 0 ? 0 : 1;
}
