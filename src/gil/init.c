/* Creating and destroying a GIL, and sys.get/setswitchinterval.
 *
 * A zero switch_interval means the default so that a zero-initialised conc_gil_opts_t with just
 * io_priority set works; CPython rejects a zero interval, we reject only negative and NaN. */
#include <math.h>
#include <string.h>
#include "gil_impl.h"

#define DEFAULT_INTERVAL 0.005

static int interval_ns(double s, int64_t *out) {
    if (isnan(s) || s < 0 || s > 1e6) return -EINVAL;
    if (s == 0) s = DEFAULT_INTERVAL;
    int64_t ns = (int64_t)(s * 1e9);
    *out = ns < 1000 ? 1000 : ns; /* below a microsecond the clock reads cost more than the slice */
    return 0;
}

int conc_gil_init(conc_gil_t *g, const conc_gil_opts_t *opts) {
    conc_gil_opts_t o = CONC_GIL_OPTS_INIT;
    if (!g) return -EINVAL;
    if (opts) o = *opts;
    int64_t ns;
    int err = interval_ns(o.switch_interval, &ns);
    if (err) return err;
    memset(g, 0, sizeof *g);
    g->_priv.interval_ns = ns;
    g->_priv.check_interval = o.check_interval;
    g->_priv.countdown = o.check_interval;
    g->_priv.breaker = o.check_interval ? CONC__GIL_COUNT : 0;
    g->_priv.io_priority = o.io_priority;
    g->_priv.live = 1;
    conc__gil_register(g);
    return 0;
}

void conc_gil_destroy(conc_gil_t *g) {
    if (!g || !g->_priv.live) return;
    conc__gil_unregister(g);
    g->_priv.live = 0;
}

double conc_gil_switch_interval(conc_gil_t *g) {
    return (double)gil_interval(g) * 1e-9;
}

int conc_gil_set_switch_interval(conc_gil_t *g, double seconds) {
    int64_t ns;
    if (!g || seconds == 0) return -EINVAL;
    int err = interval_ns(seconds, &ns);
    if (err) return err;
    __atomic_store_n(&g->_priv.interval_ns, ns, __ATOMIC_RELAXED);
    return 0;
}
