"""CPython's side of bench/manager.c: Manager().dict() per call, update of 10,000 pairs, and 8
client processes. Same output format: row, unit, figure (the C side's baseline column is empty)."""
import os
import statistics
import sys
import time
from multiprocessing import Manager, Process


def per_call(d, n):
    t0 = time.perf_counter()
    for _ in range(n // 2):
        d[b"key"] = b"some value here!"
        d[b"key"]
    return (time.perf_counter() - t0) / n


def client(d, n):
    per_call(d, n)


def main():
    pinned = os.environ.get("CONC_BENCH_PIN") != "0"
    if pinned and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {0})  # the manager process starts on CPU 0 too; moved below
    with Manager() as m:
        d = m.dict()
        # the server was forked from us: put it on CPU 1, stay on CPU 0
        if pinned:
            os.sched_setaffinity(m._process.pid, {1})
        t = statistics.median(per_call(d, 4000) for _ in range(5))
        print("cpython_manager_dict_call\tns\t%.0f" % (t * 1e9))
        pairs = {b"k%015d" % i: b"v%015d" % i for i in range(10000)}
        t0 = time.perf_counter()
        d.update(pairs)
        len(d)
        print("cpython_manager_update_10k\tms\t%.2f" % ((time.perf_counter() - t0) * 1e3))
        os.sched_setaffinity(0, range(os.cpu_count()))
        ps = [Process(target=client, args=(d, 4000)) for _ in range(8)]
        t0 = time.perf_counter()
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print("cpython_manager_8_clients\tkcalls/s\t%.1f" % (8 * 4000 / (time.perf_counter() - t0) / 1e3))


if __name__ == "__main__":
    sys.exit(main())
