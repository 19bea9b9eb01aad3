"""CPython's Pipe and SharedMemory, the same rows as bench/ipc.c, pinned the same way.

Prints one line per row: row<TAB>ns per operation (median of 9 repetitions).
- pipe_roundtrip_64b: multiprocessing.Pipe() (a socketpair Connection), 64 bytes to a forked child
  on CPU 1 that echoes with recv_bytes/send_bytes, and back to the parent on CPU 0.
- shm_lifecycle_4k: SharedMemory(create=True, size=4096), attach by name, close both, unlink."""
import os
import statistics
import sys
import time
from multiprocessing import Pipe
from multiprocessing.shared_memory import SharedMemory

REPS = 9


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


def pipe_rows():
    mine, theirs = Pipe(duplex=True)
    pid = os.fork()
    if pid == 0:
        pin(1)
        mine.close()
        try:
            while True:
                theirs.send_bytes(theirs.recv_bytes())
        except (EOFError, OSError):
            pass
        os._exit(0)
    theirs.close()
    msg = b"x" * 64

    def run(n):
        send, recv = mine.send_bytes, mine.recv_bytes
        t = time.perf_counter()
        for _ in range(n):
            send(msg)
            recv()
        return time.perf_counter() - t
    result = measure(run)
    mine.close()
    os.waitpid(pid, 0)
    return result


def shm_lifecycle(n):
    t = time.perf_counter()
    for _ in range(n):
        a = SharedMemory(create=True, size=4096)
        b = SharedMemory(name=a.name)
        b.close()
        a.close()
        a.unlink()
    return time.perf_counter() - t


if __name__ == "__main__":
    only = sys.argv[1] if len(sys.argv) > 1 else None
    pin(0)
    if not only or only == "pipe_roundtrip_64b":
        print(f"pipe_roundtrip_64b\t{pipe_rows():.1f}", flush=True)
    if not only or only == "shm_lifecycle_4k":
        print(f"shm_lifecycle_4k\t{measure(shm_lifecycle):.1f}", flush=True)
