/* Wait-time histogram and conc_gil_stats.
 *
 * Waits are recorded by the thread that just got the GIL, so the histogram is holder-only and
 * needs no atomic read-modify-write, and it is a fixed array in the struct: recording never
 * allocates. Buckets: 4 per power of two of nanoseconds (values below 4 ns have their own), so a
 * percentile is known to about 19%; it is reported as the bucket's upper bound, capped by the
 * exact maximum. */
#include "gil_impl.h"

static int bucket(uint64_t ns) {
    if (ns < 4) return (int)ns;
    int e = 63 - __builtin_clzll(ns);
    int i = 4 * (e - 1) + (int)((ns >> (e - 2)) & 3);
    return i < CONC_GIL__HIST ? i : CONC_GIL__HIST - 1;
}

static double bucket_upper(int i) {
    if (i < 4) return (double)(i + 1);
    int e = i / 4 + 1, m = i % 4;
    return (double)((uint64_t)(5 + m) << (e - 2));
}

void conc__gil_record_wait(conc_gil_t *g, int64_t ns) {
    if (ns < 0) ns = 0;
    uint64_t *h = &g->_priv.hist[bucket((uint64_t)ns)];
    gil_set(h, gil_get(h) + 1);
    gil_count(g, N_CONT);
    gil_set(&g->_priv.wait_sum_ns, gil_get(&g->_priv.wait_sum_ns) + ns);
    if (ns > gil_get(&g->_priv.wait_max_ns)) gil_set(&g->_priv.wait_max_ns, ns);
}

static double percentile(const uint64_t *hist, uint64_t total, double p, double max) {
    if (!total) return 0;
    uint64_t rank = (uint64_t)(p * (double)total + 0.999999), seen = 0;
    if (rank < 1) rank = 1;
    for (int i = 0; i < CONC_GIL__HIST; i++) {
        seen += hist[i];
        if (seen >= rank) {
            double v = bucket_upper(i) * 1e-9;
            return v < max ? v : max;
        }
    }
    return max;
}

int conc_gil_stats(conc_gil_t *g, conc_gil_stats_t *out) {
    if (!g || !out) return -EINVAL;
    uint64_t hist[CONC_GIL__HIST], total = 0;
    for (int i = 0; i < CONC_GIL__HIST; i++) total += hist[i] = gil_get(&g->_priv.hist[i]);
    out->acquires = gil_get(&g->_priv.n[N_ACQ]);
    out->contended = gil_get(&g->_priv.n[N_CONT]);
    out->switches = gil_get(&g->_priv.n[N_SWITCH]);
    out->forced_drops = gil_get(&g->_priv.n[N_FORCED]);
    out->drop_requests = gil_get(&g->_priv.n[N_REQ]);
    out->yields = gil_get(&g->_priv.n[N_YIELD]);
    out->starved_grants = gil_get(&g->_priv.n[N_STARVED]);
    out->misuse = gil_get(&g->_priv.n[N_MISUSE]);
    out->wait_max = (double)gil_get(&g->_priv.wait_max_ns) * 1e-9;
    out->wait_mean = total ? (double)gil_get(&g->_priv.wait_sum_ns) * 1e-9 / (double)total : 0;
    out->wait_p50 = percentile(hist, total, 0.50, out->wait_max);
    out->wait_p99 = percentile(hist, total, 0.99, out->wait_max);
    return 0;
}
