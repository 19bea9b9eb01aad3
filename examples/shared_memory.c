/* multiprocessing.shared_memory.SharedMemory: a named block of memory several processes map.
 *
 * Python:
 *     shm = SharedMemory(create=True, size=4096)
 *     p = Process(target=fill, args=(shm.name,)); p.start(); p.join()
 *     print(bytes(shm.buf[:5])); shm.close(); shm.unlink()
 *
 * The creator owns the name: the child attaches by name and never unlinks it (CPython's child
 * would have, through its resource tracker: gh-82300). The creator unlinks it when done; had it
 * died first, its resource tracker would have removed the name. Primitives with CONC_PSHARED
 * placed in the segment synchronise the processes (a Lock guards the counter here). */
#include <conc.h>
#include <stdio.h>
#include <string.h>

struct board {
    conc_lock_t lock; /* CONC_PSHARED: works across processes */
    long counter;
    char note[64];
};

static int add(const void *arg, size_t len) {
    char name[256];
    if (len >= sizeof name) return 1;
    memcpy(name, arg, len);
    name[len] = 0;
    conc_shm_t *s;
    if (conc_shm_attach(&s, name) != 0) return 2;
    struct board *b = conc_shm_buf(s);
    for (int i = 0; i < 1000; i++) {
        conc_lock_acquire(&b->lock, CONC_FOREVER);
        b->counter++;
        conc_lock_release(&b->lock);
    }
    snprintf(b->note, sizeof b->note, "a child was here");
    conc_shm_close(s); /* unmaps; the name stays */
    return 0;
}
CONC_TARGET(add)

int main(int argc, char **argv) {
    conc_init(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    conc_shm_t *s;
    int r = conc_shm_create(&s, NULL, sizeof(struct board)); /* a generated name */
    if (r < 0) {
        fprintf(stderr, "create: %s\n", conc_strerror(r));
        return 1;
    }
    struct board *b = conc_shm_buf(s);
    conc_lock_init(&b->lock, CONC_PSHARED);
    printf("created %s, %zu bytes\n", conc_shm_name(s), conc_shm_size(s));
    conc_process_t *p[4];
    for (int i = 0; i < 4; i++)
        conc_process_start(&p[i], "add", conc_shm_name(s), strlen(conc_shm_name(s)), NULL);
    int failed = 0;
    for (int i = 0; i < 4; i++) {
        int code = -1;
        conc_process_join(p[i], 30);
        conc_process_exitcode(p[i], &code);
        failed |= code != 0;
        conc_process_free(p[i]);
    }
    printf("counter = %ld (4 children x 1000), note: %s\n", b->counter, b->note);
    conc_shm_t *again;
    r = conc_shm_attach(&again, conc_shm_name(s));
    printf("still attachable after the children exited: %s\n", r == 0 ? "yes" : "no");
    if (r == 0) conc_shm_close(again);
    conc_shm_unlink(s);
    printf("after unlink, attach gives %s\n",
           conc_errname(conc_shm_attach(&again, conc_shm_name(s))));
    conc_shm_close(s);
    return failed;
}
