/* Fiber switches with sanitizer annotations (see fiber.h).
 *
 * AddressSanitizer must be told before every switch which stack becomes live
 * (__sanitizer_start_switch_fiber) and, on arrival, which one was left (finish); otherwise it takes
 * the new stack pointer for a wild one, and use-after-return's fake frames get mixed up between
 * fibers. A thread's own stack bounds are unknown until the first switch away from it, when finish
 * reports them. A fiber leaving for good passes NULL so its fake stack is released.
 * ThreadSanitizer keeps a shadow call stack and vector clock per fiber: each task gets its own
 * (__tsan_create_fiber), and every switch synchronises the two fibers (flag 0), which is the truth:
 * they run on one thread, one after the other. */
#include "fiber.h"
#include "sanitizer.h"

__thread struct conc__fiber *conc__fiber_running;
static __thread struct conc__fiber thread_fiber;
static __thread bool thread_fiber_ready;

struct conc__fiber *conc__fiber_thread(void) {
    if (conc__likely(thread_fiber_ready)) return &thread_fiber;
    conc__overflow_install();
    /* without an alternate stack (out of memory) an overflow still faults, just unexplained */
    (void)conc__overflow_altstack();
#ifdef CONC__TSAN
    thread_fiber.tsan = __tsan_get_current_fiber();
#endif
    thread_fiber_ready = true;
    conc__fiber_running = &thread_fiber;
    return &thread_fiber;
}

/* Runs in self right after a switch into it from prev. */
static inline void arrived(struct conc__fiber *self, struct conc__fiber *prev) {
#ifdef CONC__ASAN
    const void *lo;
    size_t size;
    __sanitizer_finish_switch_fiber(self->asan_fake, &lo, &size);
    if (prev && !prev->asan_lo) {
        prev->asan_lo = lo;
        prev->asan_size = size;
    }
#else
    (void)prev;
#endif
    conc__fiber_running = self;
}

static void fiber_start(void *transfer, void *arg) {
    struct conc__fiber *f = arg;
    arrived(f, transfer);
    f->entry(f->arg);
    __builtin_trap(); /* entry must leave with conc__fiber_exit */
}

int conc__fiber_init(struct conc__fiber *f, size_t stack_size, const char *name,
                     void (*entry)(void *arg), void *arg) {
    struct conc__stack s;
    int r = conc__stack_alloc(&s, stack_size);
    if (r < 0) return r;
    conc__fiber_init_stack(f, &s, name, entry, arg);
    return 0;
}

void conc__fiber_init_stack(struct conc__fiber *f, const struct conc__stack *s, const char *name,
                            void (*entry)(void *arg), void *arg) {
    f->stack = *s;
    f->name = name;
    f->id = 0;
    f->entry = entry;
    f->arg = arg;
    f->asan_fake = NULL;
    f->asan_lo = f->stack.lo;
    f->asan_size = f->stack.size;
#ifdef CONC__TSAN
    f->tsan = __tsan_create_fiber(0);
    if (name) __tsan_set_fiber_name(f->tsan, name);
#else
    f->tsan = NULL;
#endif
    conc__ctx_make(&f->ctx, f->stack.lo, f->stack.size, fiber_start, f);
}

void conc__fiber_destroy(struct conc__fiber *f) {
#ifdef CONC__TSAN
    if (f->tsan) __tsan_destroy_fiber(f->tsan);
    f->tsan = NULL;
#endif
    conc__stack_free(&f->stack);
}

static inline void leave(struct conc__fiber *from, struct conc__fiber *to, bool for_good) {
#ifdef CONC__ASAN
    __sanitizer_start_switch_fiber(for_good ? NULL : &from->asan_fake, to->asan_lo, to->asan_size);
#else
    (void)from;
    (void)for_good;
#endif
#ifdef CONC__TSAN
    __tsan_switch_to_fiber(to->tsan, 0);
#endif
    conc__fiber_running = to;
}

void conc__fiber_switch(struct conc__fiber *from, struct conc__fiber *to) {
    leave(from, to, false);
    struct conc__fiber *prev = conc__ctx_swap(&from->ctx, &to->ctx, from);
    arrived(from, prev);
}

void conc__fiber_exit(struct conc__fiber *from, struct conc__fiber *to) {
    leave(from, to, true);
    conc__ctx_swap(&from->ctx, &to->ctx, from);
    __builtin_unreachable();
}
