"""CPython's multiprocessing start + join per start method: the same rows as bench/process.c.

Prints one line per row: row<TAB>ns per start+join (median of the repetitions). Each sample is a
small fixed batch (a CPython spawn takes tens of milliseconds); the first start of a method is not
timed, so forkserver's server is already running, as in the C rows."""
import multiprocessing as mp
import os
import statistics
import sys
import time

REPS = 7
BATCH = {"fork": 20, "spawn": 5, "forkserver": 20}


def noop():
    pass


def start_join(ctx, n):
    t = time.perf_counter()
    for _ in range(n):
        p = ctx.Process(target=noop)
        p.start()
        p.join()
    return time.perf_counter() - t


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        os.sched_setaffinity(0, {0})  # as bench/process.c
    except (AttributeError, OSError):
        pass
    for method in ("fork", "spawn", "forkserver"):
        row = f"process_{method}_start_join"
        if only and row != only:
            continue
        ctx = mp.get_context(method)
        start_join(ctx, 1)
        n = BATCH[method]
        ns = statistics.median(start_join(ctx, n) / n * 1e9 for _ in range(REPS))
        print(f"{row}\t{ns:.1f}", flush=True)


if __name__ == "__main__":
    main()
