"""asyncio's event loop, the same rows as bench/loop.c, pinned the same way.

Prints one line per row: row<TAB>ns per operation (median of 9 repetitions).
call_soon_chain: a callback re-scheduling itself with loop.call_soon; call_soon_chain_fd: the same
with a silent pipe registered with loop.add_reader; call_soon_batch: 1000 call_soon, then one
iteration; call_later0_chain: loop.call_later(0, ...) re-armed from its callback;
threadsafe_roundtrip: another thread's loop.call_soon_threadsafe runs a callback that releases a
lock the thread then acquires (loop on CPU 0, thread on CPU 1)."""
import asyncio
import os
import statistics
import sys
import threading
import time

REPS = 9
BATCH = 1000


def pin(cpu):
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass


def measure(fn):
    n = 16
    while True:
        t = fn(n)
        if t > 0.01:
            break
        n *= 4
    n = max(1, int(n * 0.04 / t))
    return statistics.median(fn(n) / n * 1e9 for _ in range(REPS))


def chain(loop):
    def run(n):
        left = [n]

        def cb():
            left[0] -= 1
            if left[0] > 0:
                loop.call_soon(cb)
            else:
                loop.stop()
        t = time.perf_counter()
        loop.call_soon(cb)
        loop.run_forever()
        return time.perf_counter() - t
    return run


def chain_fd(loop):
    r, w = os.pipe()
    inner = chain(loop)

    def run(n):
        loop.add_reader(r, lambda: None)
        try:
            return inner(n)
        finally:
            loop.remove_reader(r)
    return run


def batch(loop):
    def noop():
        pass

    def run(n):
        rounds = (n + BATCH - 1) // BATCH
        t = time.perf_counter()
        for _ in range(rounds):
            for _ in range(BATCH):
                loop.call_soon(noop)
            loop.stop()  # before run_forever: exactly one iteration
            loop.run_forever()
        return (time.perf_counter() - t) * n / (rounds * BATCH)
    return run


def later0(loop):
    def run(n):
        left = [n]

        def cb():
            left[0] -= 1
            if left[0] > 0:
                loop.call_later(0, cb)
            else:
                loop.stop()
        t = time.perf_counter()
        loop.call_later(0, cb)
        loop.run_forever()
        return time.perf_counter() - t
    return run


def roundtrip(loop):
    def run(n):
        answered = threading.Lock()
        answered.acquire()
        took = [0.0]

        def pinger():
            pin(1)
            t = time.perf_counter()
            for _ in range(n):
                loop.call_soon_threadsafe(answered.release)
                answered.acquire()
            took[0] = time.perf_counter() - t
            loop.call_soon_threadsafe(loop.stop)
        th = threading.Thread(target=pinger)
        th.start()
        loop.run_forever()
        th.join()
        return took[0]
    return run


ROWS = {
    "loop_call_soon_chain": chain,
    "loop_call_soon_chain_fd": chain_fd,
    "loop_call_soon_batch": batch,
    "loop_call_later0_chain": later0,
    "loop_threadsafe_roundtrip": roundtrip,
}

if __name__ == "__main__":
    only = sys.argv[1] if len(sys.argv) > 1 else None
    pin(0)
    for row, make in ROWS.items():
        if only and row != only:
            continue
        loop = asyncio.new_event_loop()
        try:
            print(f"{row}\t{measure(make(loop)):.1f}", flush=True)
        finally:
            loop.close()
