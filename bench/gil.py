"""CPython's GIL, the same experiments as bench/gil.c (docs/gil.md).

1. Two CPU-bound threads against one thread doing the same total work (Beazley's count loop).
2. The convoy effect (bpo-7946): 1-byte round trips per second of an I/O thread to an echo
   process, alone and beside 1 and 2 CPU-bound threads. Layout as in bench/gil.c: the echo peer is
   a process forked before any thread starts (it never needs this interpreter's GIL), the I/O
   thread is the main thread doing sock.send + sock.recv, CPU-bound threads run a counting loop.
   A CPU-bound process (same loop, no shared GIL) shows what sharing the CPUs alone costs.
   Each case runs REPS times for DURATION seconds, cases interleaved; medians are printed."""
import os
import signal
import socket
import statistics
import sys
import threading
import time

DURATION = 1.0
REPS = 3


def count(n):
    while n > 0:
        n -= 1


def cpu_ratio():
    n = 1
    while True:
        t = time.perf_counter()
        count(n)
        if time.perf_counter() - t > 0.05:
            break
        n *= 2
    t = time.perf_counter()
    count(n)
    n = int(n * 0.25 / (time.perf_counter() - t))  # 2 x n takes about 0.5 s
    ratios = []
    for _ in range(5):
        t = time.perf_counter()
        count(n)
        count(n)
        one = time.perf_counter() - t
        ths = [threading.Thread(target=count, args=(n,)) for _ in range(2)]
        t = time.perf_counter()
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        two = time.perf_counter() - t
        ratios.append(two / one)
    return statistics.median(ratios)


def cpu_process():
    pid = os.fork()
    if pid == 0:
        x = 0
        while True:
            x += 1
    return pid


def convoy(sock, ncpu, nprocs):
    stop = False
    procs = [cpu_process() for _ in range(nprocs)]

    def spin():
        x = 0
        while not stop:
            x += 1

    ths = [threading.Thread(target=spin) for _ in range(ncpu)]
    for th in ths:
        th.start()
    trips = 0
    send, recv = sock.send, sock.recv
    t0 = time.perf_counter()
    while True:
        send(b"x")
        recv(1)
        trips += 1
        t = time.perf_counter() - t0
        if t >= DURATION:
            break
    stop = True
    for th in ths:
        th.join()
    for pid in procs:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return trips / t


def main():
    a, b = socket.socketpair()
    pid = os.fork()  # before any thread
    if pid == 0:
        a.close()
        while True:
            c = b.recv(1)
            if not c:
                os._exit(0)
            b.send(c)
    b.close()
    print(f"CPython {sys.version.split()[0]} GIL benchmark: {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start, switch interval "
          f"{sys.getswitchinterval() * 1e3:.0f} ms", flush=True)
    print(f"{'2 CPU-bound threads vs 1, same total work':<58} {cpu_ratio():8.3f}x", flush=True)
    cases = [("I/O thread alone", 0, 0),
             ("  + 1 CPU-bound process (shares the CPUs, not the GIL)", 0, 1),
             ("  + 1 CPU-bound thread", 1, 0),
             ("  + 2 CPU-bound processes", 0, 2),
             ("  + 2 CPU-bound threads", 2, 0)]
    rates = [[] for _ in cases]
    for _ in range(REPS):
        for i, (_, ncpu, nprocs) in enumerate(cases):
            rates[i].append(convoy(a, ncpu, nprocs))
    print(f"convoy: 1-byte round trips/s to an echo process (median of {REPS} x {DURATION:.0f} s)")
    alone = statistics.median(rates[0])
    for (label, _, _), r in zip(cases, rates):
        m = statistics.median(r)
        print(f"  {label:<56} {m:7.0f} /s {m / alone:5.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    a.close()
    os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
