"""Join the C rows (conc, pthread, median ratio) with CPython's and print a Markdown table,
with each row's target from the foundation issue and whether it was met."""
import sys

# row -> (label, max conc/peer ratio); the peer is pthreads for sync rows, libuv for loop rows
TARGETS = {
    "lock_uncontended": ("Lock acquire+release, uncontended", 1.0),
    "lock_contended_2t": ("Lock, 2 threads contending (ns per acquire)", 1.0),
    "rlock_uncontended": ("RLock acquire+release, uncontended", None),
    "semaphore_uncontended": ("Semaphore acquire+release, uncontended", None),
    "event_pingpong": ("Event ping-pong, round trip", 1.1),
    "condition_pingpong": ("Condition ping-pong, round trip", 1.1),
    "barrier_2t_round": ("Barrier, 2-thread round", None),
    "thread_start_join": ("Thread start + join", 1.2),
    "loop_call_soon_chain": ("loop: call_soon chain (peer: libuv uv_idle)", 1.0),
    "loop_call_soon_chain_fd": ("loop: call_soon chain, one fd watched (peer: libuv)", 1.0),
    "loop_call_soon_batch": ("loop: call_soon batch of 1000 (peer: libuv)", 1.0),
    "loop_call_later0_chain": ("loop: call_later(0) chain (peer: libuv uv_timer 0)", None),
    "loop_threadsafe_roundtrip": ("loop: call_soon_threadsafe round trip (peer: uv_async_send)", None),
}
MIN_VS_PYTHON = 20.0


def read(path):
    rows = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts and parts[0]:
                rows[parts[0]] = parts[1:]
    return rows


def main():
    c, py = read(sys.argv[1]), read(sys.argv[2])
    print("| row | conc ns | peer ns (pthread / libuv) | CPython ns | conc/peer (median of ratios) | target | CPython/conc | ≥20× |")
    print("|---|---:|---:|---:|---:|---|---:|---|")
    misses = 0
    for row, (label, target) in TARGETS.items():
        if row not in c:
            continue
        _, conc_ns, pth_ns, ratio = c[row]
        conc_ns, pth_ns, ratio = float(conc_ns), float(pth_ns), float(ratio)
        py_ns = float(py[row][0]) if row in py else None
        tgt = f"≤ {target:.1f}×" if target else "—"
        if target:
            ok = ratio <= target
            tgt += " ✓" if ok else " ✗"
            misses += not ok
        if py_ns:
            speed = py_ns / conc_ns
            if row.startswith("loop_"):  # the asyncio issue sets no CPython ratio for loop rows
                fast = "—"
            else:
                fast = "✓" if speed >= MIN_VS_PYTHON else "✗"
                misses += speed < MIN_VS_PYTHON
            pys = f"{py_ns:.1f}"
            sp = f"{speed:.1f}×"
        else:
            pys, sp, fast = "n/a", "n/a", ""
        print(f"| {label} | {conc_ns:.1f} | {pth_ns:.1f} | {pys} | {ratio:.2f}× | {tgt} | {sp} | {fast} |")
    print(f"\n{misses} target(s) missed in this run.")


if __name__ == "__main__":
    main()
