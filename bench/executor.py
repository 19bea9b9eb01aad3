"""CPython's concurrent.futures, the same rows as bench/executor.c.

Prints one line per row: row<TAB>ns per operation (median).
- executor_thread_roundtrip: ThreadPoolExecutor(1): submit(tiny, b) then .result(), warm.
- executor_process_roundtrip: ProcessPoolExecutor(1, fork), the worker pinned to CPU 1 by its
  initializer, the submitter on CPU 0.
- executor_to_thread_roundtrip: `await asyncio.to_thread(f)` in a loop, warm.
- executor_thread_map, executor_process_map_1, executor_process_map_64: list(ex.map(tiny, 20,000
  items, chunksize)) over 2 workers, ns per task, after two such maps to warm up."""
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

MAPN = 20000


def tiny(b):
    return b


def pin(cpu):
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass


def roundtrip(ex, reps=41):
    msg = b"\x01" * 8

    def run(n):
        t = time.perf_counter()
        for _ in range(n):
            ex.submit(tiny, msg).result()
        return time.perf_counter() - t
    n = 16
    while True:
        t = run(n)
        if t > 0.002:
            break
        n *= 4
    n = max(1, int(n * 0.005 / t))
    return statistics.median(run(n) / n * 1e9 for _ in range(reps))


def nothing():
    return None


def to_thread_ns(reps=21):
    async def run(n):
        await asyncio.to_thread(nothing)
        t = time.perf_counter()
        for _ in range(n):
            await asyncio.to_thread(nothing)
        return time.perf_counter() - t
    n = 2000
    return statistics.median(asyncio.run(run(n)) / n * 1e9 for _ in range(reps))


def map_ns(ex, chunk):
    items = [b"12345678"] * MAPN
    for _ in range(2):  # warm, as bench/executor.c does
        list(ex.map(tiny, items, chunksize=chunk))
    vals = []
    for _ in range(5):
        t = time.perf_counter()
        list(ex.map(tiny, items, chunksize=chunk))
        vals.append((time.perf_counter() - t) / MAPN * 1e9)
    return statistics.median(vals)


if __name__ == "__main__":
    only = sys.argv[1] if len(sys.argv) > 1 else None

    def want(name):
        return not only or only == name
    ctx = mp.get_context("fork")
    if want("executor_thread_roundtrip"):
        pin(0)
        with ThreadPoolExecutor(1) as ex:
            print(f"executor_thread_roundtrip\t{roundtrip(ex):.1f}", flush=True)
    if want("executor_process_roundtrip"):
        pin(0)
        with ProcessPoolExecutor(1, mp_context=ctx, initializer=pin, initargs=(1,)) as ex:
            print(f"executor_process_roundtrip\t{roundtrip(ex):.1f}", flush=True)
    if want("executor_to_thread_roundtrip"):
        pin(0)
        print(f"executor_to_thread_roundtrip\t{to_thread_ns():.1f}", flush=True)
    try:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    except (AttributeError, OSError):
        pass
    if want("executor_thread_map"):
        with ThreadPoolExecutor(2) as ex:
            print(f"executor_thread_map\t{map_ns(ex, 1):.1f}", flush=True)
    if want("executor_process_map_1") or want("executor_process_map_64"):
        with ProcessPoolExecutor(2, mp_context=ctx) as ex:
            if want("executor_process_map_1"):
                print(f"executor_process_map_1\t{map_ns(ex, 1):.1f}", flush=True)
            if want("executor_process_map_64"):
                print(f"executor_process_map_64\t{map_ns(ex, 64):.1f}", flush=True)
