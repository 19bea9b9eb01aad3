"""Join the C rows (row, unit, conc, peer, median ratio conc/peer) with CPython's (row, value) and
print one Markdown table, with each row's targets from its issue and whether this run met them."""
import sys

# row -> (label, unit, max conc/peer ratio or None, min CPython/conc ratio or None)
# peers: pthreads for threading rows, libuv for loop rows, the raw assembly switch for tasks
TARGETS = {
    "lock_uncontended": ("Lock acquire+release, uncontended", "ns", 1.0, 20),
    "lock_contended_2t": ("Lock, 2 threads contending (per acquire)", "ns", 1.0, 20),
    "rlock_uncontended": ("RLock acquire+release, uncontended", "ns", None, 20),
    "semaphore_uncontended": ("Semaphore acquire+release, uncontended", "ns", None, 20),
    "event_pingpong": ("Event ping-pong, round trip", "ns", 1.1, 20),
    "condition_pingpong": ("Condition ping-pong, round trip", "ns", 1.1, 20),
    "barrier_2t_round": ("Barrier, 2-thread round", "ns", None, 20),
    "thread_start_join": ("Thread start + join", "ns", 1.2, 20),
    "loop_call_soon_chain": ("loop: call_soon chain (peer: libuv uv_idle)", "ns", 1.0, None),
    "loop_call_soon_chain_fd": ("loop: call_soon chain, one fd watched (peer: libuv)", "ns", 1.0, None),
    "loop_call_soon_batch": ("loop: call_soon batch of 1000 (peer: libuv)", "ns", 1.0, None),
    "loop_call_later0_chain": ("loop: call_later(0) chain (peer: libuv uv_timer 0)", "ns", None, None),
    "loop_threadsafe_roundtrip": ("loop: call_soon_threadsafe round trip (peer: uv_async_send)", "ns", None, None),
    "process_fork_start_join": ("Process start+join, fork (peer: fork+waitpid)", "ns", 1.5, 10),
    "process_spawn_start_join": ("Process start+join, spawn (peer: posix_spawn)", "ns", 1.5, 10),
    "process_forkserver_start_join": ("Process start+join, forkserver (peer: fork floor)", "ns", 1.0, 10),
    "pipe_roundtrip_64b": ("Pipe round trip, 64 B (peer: raw socketpair)", "ns", 1.2, None),
    "pipe_roundtrip_64b_thread": ("Pipe round trip, 64 B, from a thread (peer: raw)", "ns", 1.2, None),
    "queue_throughput_64b": ("Queue 1->1 processes, 64 B, per message (peer: raw pipe)", "ns", 0.5, 50),
    "queue_throughput_64b_2to2": ("Queue 2->2 processes, 64 B, per message (peer: raw pipe)", "ns", 0.5, 50),
    "queue_roundtrip_64b": ("Queue round trip, 64 B, 2 processes (peer: two raw pipes)", "ns", None, None),
    "shm_lifecycle_4k": ("SharedMemory create+attach+close+unlink, 4 KiB (peer: raw)", "ns", None, None),
    "task_switch": ("task switch, 2 tasks on conc_sleep(0) (peer: raw switch)", "ns", 2.0, 50),
    "ctx_switch_raw": ("raw assembly switch (peer: swapcontext)", "ns", None, None),
    "task_create_complete": ("task create + complete", "ns", None, 20),
    "aqueue_item": ("async Queue producer -> consumer, per item", "ns", None, None),
    "echo_rt_1conn": ("TCP echo 64 B round trip, 1 conn, streams (peer: libuv)", "ns", 1.0, None),
    "echo_rt_50conn": ("TCP echo 64 B round trip, 50 conns, streams (peer: libuv)", "ns", 1.0, None),
    "echo_rt_1conn_epoll": ("TCP echo, 1 conn (peer: bare epoll; aim 0.9x its speed)", "ns", None, None),
    "echo_rt_50conn_epoll": ("TCP echo, 50 conns (peer: bare epoll; aim 0.9x its speed)", "ns", None, None),
    "echo_rt_1conn_uvloop": ("TCP echo, 1 conn (peer: uvloop)", "ns", None, None),
    "echo_rt_50conn_uvloop": ("TCP echo, 50 conns (peer: uvloop)", "ns", None, None),
    "sleeping_100k_rss": ("100,000 sleeping tasks, RSS (target < 1024 MiB)", "MiB", None, None),
    "executor_thread_roundtrip": ("ThreadPool submit -> result, warm", "ns", None, None),
    "executor_process_roundtrip": ("ProcessPool submit -> result, warm (peer: raw framed pipe to a forked child)", "ns", 3.0, None),
    "executor_mpi_roundtrip": ("MPI pool submit -> result, warm (peer: MPI send+recv pair)", "ns", 2.0, None),
    "executor_to_thread_roundtrip": ("loop to_thread round trip from a task (default pool)", "ns", None, None),
    "executor_thread_map": ("ThreadPool map, 20k tiny tasks, 2 workers, per task", "ns", None, None),
    "executor_process_map_1": ("ProcessPool map, 20k tiny tasks, 2 workers, chunksize 1, per task", "ns", None, 20),
    "executor_process_map_64": ("ProcessPool map, 20k tiny tasks, 2 workers, chunksize 64, per task", "ns", None, 20),
    "manager_dict_call": ("Manager dict set/get through a proxy (peer: raw socketpair round trip)", "ns", None, 3),
    "manager_update_10k": ("Manager dict.update of 10,000 pairs in one call (peer: 10,000 calls)", "ms", None, None),
    "manager_8_clients": ("Manager, 8 client processes, total (peer: 1 client)", "kcalls/s", None, None),
    "executor_primes_scaling": ("ProcessPool CPU-bound map, speed-up 1 -> 2 workers (peer: 1 -> 2 forked processes, no pool)", "x", None, None),
}


def read(path):
    rows = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts and parts[0]:
                rows[parts[0]] = parts[1:]
    return rows


def opt(fields, i):
    """A number, or None where the row has no peer ("nan", "-", missing)."""
    try:
        v = float(fields[i])
    except (IndexError, ValueError):
        return None
    return None if v != v else v


def num(x):
    return f"{x:.1f}" if x is not None else "n/a"


def main():
    c, py = read(sys.argv[1]), read(sys.argv[2])
    print("| row | unit | conc | peer | CPython | conc/peer (median of ratios) | target | CPython/conc | target |")
    print("|---|---|---:|---:|---:|---:|---|---:|---|")
    misses = 0
    for row, (label, unit, target, py_min) in TARGETS.items():
        if row not in c:
            continue
        fields = c[row]
        conc = float(fields[1])
        peer = opt(fields, 2)
        ratio = opt(fields, 3)
        py_v = float(py[row][0]) if row in py else None
        tgt = "—"
        if row == "sleeping_100k_rss":
            ok = conc < 1024
            tgt = "< 1 GiB " + ("✓" if ok else "✗")
            misses += not ok
        elif row == "executor_primes_scaling":
            ok = conc >= 1.8
            tgt = "≥ 1.8× " + ("✓" if ok else "✗")
            misses += not ok
        elif target and ratio is not None:
            ok = ratio <= target
            tgt = f"≤ {target:.1f}× " + ("✓" if ok else "✗")
            misses += not ok
        speed, ptgt = None, "—"
        if py_v and unit in ("ns", "ms"):
            speed = py_v / conc
            if py_min:
                ok = speed >= py_min
                ptgt = f"≥ {py_min}× " + ("✓" if ok else "✗")
                misses += not ok
        rs = f"{ratio:.2f}×" if ratio is not None else "—"
        sp = f"{speed:.1f}×" if speed is not None else "—"
        print(f"| {label} | {unit} | {num(conc)} | {num(peer)} | {num(py_v)} | {rs} | {tgt} | {sp} | {ptgt} |")
    print(f"\n{misses} target(s) missed in this run.")


if __name__ == "__main__":
    main()
