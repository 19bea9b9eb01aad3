"""asyncio's side of bench/task.c: the same rows, pinned to CPU 0 the same way.

Prints one line per row: row<TAB>value (ns per operation, median of 9 repetitions; MiB for
sleeping_100k_rss)."""
import asyncio
import os
import statistics
import time

REPS = 9


def pin(cpu):
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass


def measure(fn):
    """ns per operation of fn(n) -> seconds, calibrated to ~40 ms a sample."""
    n = 16
    while True:
        t = fn(n)
        if t > 0.01:
            break
        n *= 4
    n = max(1, int(n * 0.04 / t))
    return statistics.median(fn(n) / n * 1e9 for _ in range(REPS))


def task_switch(n):
    async def yielder(k):
        for _ in range(k):
            await asyncio.sleep(0)

    async def main():
        t = time.perf_counter()
        await asyncio.gather(yielder(n // 2), yielder(n // 2))
        return time.perf_counter() - t

    return asyncio.run(main())


def task_create_complete(n):
    async def noop():
        return None

    async def main():
        batches = max(1, n // 1000)
        t = time.perf_counter()
        for _ in range(batches):
            await asyncio.gather(*[asyncio.create_task(noop()) for _ in range(1000)])
        return (time.perf_counter() - t) * n / (batches * 1000)

    return asyncio.run(main())


def aqueue_item(n):
    async def main():
        q = asyncio.Queue(maxsize=128)

        async def produce():
            for i in range(n):
                await q.put(i)

        async def consume():
            for _ in range(n):
                await q.get()

        t = time.perf_counter()
        await asyncio.gather(consume(), produce())
        return time.perf_counter() - t

    return asyncio.run(main())


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def sleeping_100k_rss():
    async def sleeper():
        await asyncio.sleep(3600)

    async def main():
        before = rss_mib()
        tasks = [asyncio.create_task(sleeper()) for _ in range(100_000)]
        await asyncio.sleep(0.01)
        added = rss_mib() - before
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return added

    return asyncio.run(main())


def main():
    pin(0)
    for name, fn in (("task_switch", task_switch), ("task_create_complete", task_create_complete),
                     ("aqueue_item", aqueue_item)):
        print(f"{name}\t{measure(fn):.1f}", flush=True)
    print(f"sleeping_100k_rss\t{sleeping_100k_rss():.1f}", flush=True)


if __name__ == "__main__":
    main()
