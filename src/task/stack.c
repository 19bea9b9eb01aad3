/* Task stacks, in the libdill manner: one anonymous mapping per stack with an inaccessible guard
 * region below it, so running off the end faults (and overflow.c names the task) instead of
 * silently overwriting a neighbour; and a per-thread cache of freed stacks, so a task that lives a
 * few microseconds does not pay mmap + munmap (syscalls, page faults, a TLB shootdown) each time.
 *
 * The guard is installed with MADV_GUARD_INSTALL where the kernel has it (Linux 6.13+): that marks
 * page-table entries instead of splitting the mapping, so a stack is one VMA, adjacent stacks merge,
 * and 100,000 tasks stay far below vm.max_map_count (65530). Older kernels get mprotect(PROT_NONE),
 * two VMAs per stack (about 32,000 live tasks unless vm.max_map_count is raised).
 *
 * Memory is reserved lazily (MAP_NORESERVE): a sleeping task whose frames fit in a page costs one
 * page of RSS, whatever its stack size. Under AddressSanitizer a stack's shadow is cleared when it
 * is freed, because frames of a task that ended mid-call leave poisoned redzones behind. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "sanitizer.h"
#include "stack.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/* Up to 1024 freed stacks per thread: enough that spawning a thousand short tasks at a time, and
 * letting them end, costs no mmap/munmap (munmap means a TLB shootdown on every CPU the process
 * ran on: tens of microseconds on a VM). A cached stack keeps the pages its task touched - usually
 * one or two - so the cache costs a few MiB of RSS, at most 1024 x the stack size if every task
 * ran deep. */
#define CACHE_MAX 1024

static size_t page_size(void) {
    static size_t page;
    size_t p = __atomic_load_n(&page, __ATOMIC_RELAXED);
    if (!p) {
        long r = sysconf(_SC_PAGESIZE);
        p = r > 0 ? (size_t)r : 4096;
        __atomic_store_n(&page, p, __ATOMIC_RELAXED);
    }
    return p;
}

size_t conc__stack_round(size_t size) {
    size_t page = page_size();
    if (size == 0) size = CONC__STACK_DEFAULT;
    if (size < CONC__STACK_MIN) size = CONC__STACK_MIN;
    if (size > SIZE_MAX / 2) return 0;
    return (size + page - 1) & ~(page - 1);
}

/* 1 = MADV_GUARD_INSTALL works, -1 = it does not (use mprotect), 0 = not tried yet. */
static int guard_madvise;

static int install_guard(void *map, size_t len) {
    if (__atomic_load_n(&guard_madvise, __ATOMIC_RELAXED) >= 0) {
        if (madvise(map, len, MADV_GUARD_INSTALL) == 0) {
            __atomic_store_n(&guard_madvise, 1, __ATOMIC_RELAXED);
            return 0;
        }
        if (errno != EINVAL) return -errno;
        __atomic_store_n(&guard_madvise, -1, __ATOMIC_RELAXED);
    }
    return mprotect(map, len, PROT_NONE) == 0 ? 0 : -errno;
}

struct cache {
    size_t n;
    struct conc__stack s[CACHE_MAX];
};
static __thread struct cache *cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void unmap(struct conc__stack *s) {
    size_t len = (size_t)((char *)s->lo - (char *)s->map) + s->size;
#ifdef CONC__ASAN
    __asan_unpoison_memory_region(s->lo, s->size);
#endif
    munmap(s->map, len);
}

/* Thread exit: the cached stacks go back to the kernel. */
static void cache_destroy(void *p) {
    struct cache *c = p;
    for (size_t i = 0; i < c->n; i++) unmap(&c->s[i]);
    munmap(c, sizeof *c);
}
static void cache_key_init(void) {
    pthread_key_create(&cache_key, cache_destroy);
}

int conc__stack_alloc(struct conc__stack *s, size_t size) {
    size = conc__stack_round(size);
    if (!size) return -ENOMEM;
    struct cache *c = cache;
    if (c) {
        for (size_t i = c->n; i-- > 0;) {
            if (c->s[i].size == size) {
                *s = c->s[i];
                c->s[i] = c->s[--c->n];
                return 0;
            }
        }
    }
    size_t guard = CONC__STACK_GUARD > page_size() ? CONC__STACK_GUARD : page_size();
    void *map = mmap(NULL, guard + size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) return -ENOMEM;
    int r = install_guard(map, guard);
    if (r < 0) {
        munmap(map, guard + size);
        return -ENOMEM;
    }
    s->map = map;
    s->lo = (char *)map + guard;
    s->size = size;
    return 0;
}

void conc__stack_free(struct conc__stack *s) {
    if (!s->map) return;
#ifdef CONC__ASAN
    __asan_unpoison_memory_region(s->lo, s->size);
#endif
    struct cache *c = cache;
    if (!c) {
        pthread_once(&cache_once, cache_key_init);
        void *m = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) {
            c = cache = m;
            pthread_setspecific(cache_key, c);
        }
    }
    if (c && c->n < CACHE_MAX) {
        c->s[c->n++] = *s;
    } else {
        unmap(s);
    }
    s->map = NULL;
}
