/* Letting a batch form after a wait: how long a putter or getter that caught up with the other side
 * lingers once the word it spins on moves.
 *
 * Why: a getter that keeps up with a stream wakes on every single commit and takes that one
 * message, so the producer's next commit and the ring line it writes are each pulled back across
 * the CPUs (about 200 ns one way here), and on CPUs that share a core its spinning takes cycles
 * from the producer's work. Lingering a moment after the word moves (without touching shared
 * memory) lets the producer commit several messages meanwhile, which the getter then takes
 * back to back: with a fixed linger of a microsecond, a 1->1 stream of 64-byte messages went from
 * ~80 to ~40 ns a message on CPUs that looked like two threads of one core. The same holds for a
 * putter waiting for room in a full ring.
 *
 * Why learned, not fixed: in a ping-pong (a request, then its reply) the other side commits one
 * message and waits, so lingering only adds to every round trip. So each handle and side keeps a
 * delay that doubles (from DELAY_MIN up to DELAY_MAX pauses) while lingering finds more than one
 * message (or room for more than one) waiting afterwards, and drops to zero the first time it
 * does not; at zero it tries again only after COOLDOWN waits that found exactly one, so a
 * ping-pong pays one short linger in COOLDOWN. The state is a per-process hint: racing threads
 * may lose an update, which costs nothing but a different delay. */
#include "../internal/queue.h"

#define DELAY_MIN 4u  /* pauses (~25 ns each here) */
#define DELAY_MAX 40u /* about a microsecond */
#define COOLDOWN  64u

void conc__queue_learn(uint32_t *state, bool batched) {
    uint32_t s = __atomic_load_n(state, __ATOMIC_RELAXED);
    uint32_t delay = s & 0xffffu, cool = s >> 16;
    if (batched) {
        delay = delay ? (delay * 2 < DELAY_MAX ? delay * 2 : DELAY_MAX) : DELAY_MIN;
        cool = 0;
    } else if (delay) {
        delay = 0;
        cool = COOLDOWN;
    } else if (cool) {
        cool--;
    } else {
        delay = DELAY_MIN; /* try again */
    }
    __atomic_store_n(state, cool << 16 | delay, __ATOMIC_RELAXED);
}
