"""CPython's multiprocessing.Queue, the same rows as bench/queue.c, pinned the same way.

Prints one line per row: row<TAB>ns per message or round trip (median of 9 repetitions).
- queue_throughput_64b: the parent (CPU 0) puts 64-byte bytes objects on a Queue, a forked
  consumer (CPU 1) gets them; a sample ends when the consumer acknowledges a marker on a second
  Queue. (put only hands the object to the feeder thread, so the consumer's side is what counts.)
- queue_throughput_64b_2to2: two producer processes (CPU 0) and two consumers (CPU 1).
- queue_roundtrip_64b: 64 bytes to a child (CPU 1) over one Queue and back over another."""
import os
import sys

import multiprocessing as mp
import statistics
import time

REPS = 9
MSG = b"x" * 64


def pin(cpu):
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass


def measure(fn):
    # at least 2000 messages a sample: each sample also pays one marker round trip
    n = 2000
    while True:
        t = fn(n)
        if t > 0.04:
            break
        n *= 4
    n = max(2000, int(n * 0.04 / t))
    return statistics.median(fn(n) / n * 1e9 for _ in range(REPS))


def consumer(cpu, data, ack):
    pin(cpu)
    while True:
        m = data.get()
        if m == b"q":
            return
        if m == b"m":
            ack.put(b"a")


def producer(cpu, go, data, done):
    pin(cpu)
    while True:
        n = go.get()
        if n < 0:
            return
        for _ in range(n):
            data.put(MSG)
        done.put(b"d")


def echo(cpu, data, back):
    pin(cpu)
    while True:
        m = data.get()
        if m == b"q":
            return
        back.put(m)


def throughput_1to1(ctx):
    data, ack = ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=consumer, args=(1, data, ack))
    p.start()

    def run(n):
        put = data.put
        t = time.perf_counter()
        for _ in range(n):
            put(MSG)
        put(b"m")
        ack.get()
        return time.perf_counter() - t
    r = measure(run)
    data.put(b"q")
    p.join()
    return r


def throughput_2to2(ctx):
    data, ack, go, done = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Queue()
    ps = [ctx.Process(target=producer, args=(0, go, data, done)) for _ in range(2)]
    ps += [ctx.Process(target=consumer, args=(1, data, ack)) for _ in range(2)]
    for p in ps:
        p.start()

    def run(n):
        half = max(1, n // 2)
        t = time.perf_counter()
        for _ in range(2):
            go.put(half)
        for _ in range(2):
            done.get()
        for _ in range(2):
            data.put(b"m")
        for _ in range(2):
            ack.get()
        return (time.perf_counter() - t) * n / (2 * half)
    r = measure(run)
    for p in ps:  # (telling them to quit through the queues hung a child's exit now and then)
        p.terminate()
        p.join()
    return r


def roundtrip(ctx):
    data, back = ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=echo, args=(1, data, back))
    p.start()

    def run(n):
        put, get = data.put, back.get
        t = time.perf_counter()
        for _ in range(n):
            put(MSG)
            get()
        return time.perf_counter() - t
    r = measure(run)
    data.put(b"q")
    p.join()
    return r


if __name__ == "__main__":
    only = sys.argv[1] if len(sys.argv) > 1 else None
    pin(0)
    ctx = mp.get_context("fork")
    rows = [("queue_throughput_64b", throughput_1to1), ("queue_throughput_64b_2to2", throughput_2to2),
            ("queue_roundtrip_64b", roundtrip)]
    for name, fn in rows:
        if not only or only == name:
            print(f"{name}\t{fn(ctx):.1f}", flush=True)
