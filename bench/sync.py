"""CPython's threading primitives, the same rows as bench/sync.c, pinned the same way.

Prints one line per row: row<TAB>ns per operation (median of 9 repetitions)."""
import os
import statistics
import sys
import threading
import time

REPS = 9


def pin(cpu):
    try:
        os.sched_setaffinity(0, {cpu})  # 0: the calling thread on Linux
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


def uncontended(lock):
    def run(n):
        acq, rel = lock.acquire, lock.release
        t = time.perf_counter()
        for _ in range(n):
            acq()
            rel()
        return time.perf_counter() - t
    return run


def two_threads(mine, theirs):
    def run(n):
        def partner():
            pin(1)
            theirs(n)
        th = threading.Thread(target=partner)
        t = time.perf_counter()
        th.start()
        mine(n)
        th.join()
        return time.perf_counter() - t
    return run


def lock_contended(n):
    lock = threading.Lock()
    box = [0]

    def body(k):
        for _ in range(k):
            with lock:
                box[0] += 1
    return two_threads(body, body)(n // 2)


def event_pingpong(n):
    ping, pong = threading.Event(), threading.Event()

    def a(k):
        for _ in range(k):
            ping.set()
            pong.wait()
            pong.clear()

    def b(k):
        for _ in range(k):
            ping.wait()
            ping.clear()
            pong.set()
    return two_threads(a, b)(n)


def condition_pingpong(n):
    cond = threading.Condition(threading.Lock())
    turn = [0]

    def a(k):
        for _ in range(k):
            with cond:
                turn[0] = 1
                cond.notify()
                while turn[0] != 0:
                    cond.wait()

    def b(k):
        for _ in range(k):
            with cond:
                while turn[0] != 1:
                    cond.wait()
                turn[0] = 0
                cond.notify()
    return two_threads(a, b)(n)


def barrier_round(n):
    bar = threading.Barrier(2)

    def body(k):
        for _ in range(k):
            bar.wait()
    return two_threads(body, body)(n)


def thread_start_join(n):
    def noop():
        pass
    t = time.perf_counter()
    for _ in range(n):
        th = threading.Thread(target=noop)
        th.start()
        th.join()
    return time.perf_counter() - t


def semaphore(n):
    return uncontended(threading.Semaphore(1))(n)


ROWS = {
    "lock_uncontended": lambda n: uncontended(threading.Lock())(n),
    "lock_contended_2t": lock_contended,
    "rlock_uncontended": lambda n: uncontended(threading.RLock())(n),
    "semaphore_uncontended": semaphore,
    "event_pingpong": event_pingpong,
    "condition_pingpong": condition_pingpong,
    "barrier_2t_round": barrier_round,
    "thread_start_join": thread_start_join,
}

if __name__ == "__main__":
    only = sys.argv[1] if len(sys.argv) > 1 else None
    for row, fn in ROWS.items():
        if only and row != only:
            continue
        if row == "thread_start_join":
            os.sched_setaffinity(0, {0, 1})
        else:
            pin(0)
        print(f"{row}\t{measure(fn):.1f}", flush=True)
