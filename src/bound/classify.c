/* The verdict: CPU-bound, IO/wait-bound or mixed, with a reason that quotes the numbers.
 *
 * The rule and why it counts the wait for a core (weighted per thread) are in conc/bound.h. The
 * IO side looks at utilisation alone, as the wait only decides whether work that did not get
 * the CPU it wanted was computing. The thresholds leave a wide band between 0.3 and 0.7: a busy
 * program measures near 1.0 per busy thread even under sanitizers (start-up is CPU too), a
 * sleeping or reading one near 0.0, so both stay clear of the band on a noisy machine. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include "conc/bound.h"

static int pct(double x) {
    double p = round(x * 100);
    return p > 1e6 ? 1000000 : (int)p;
}

static double ratio(double part, double whole) {
    double r = whole > 0 ? part / whole : 0;
    return isfinite(r) && r > 0 ? r : 0;
}

/* snprintf that may cut: a reason is one bounded line, and a cut one still reads. */
__attribute__((format(printf, 3, 4))) static void say(char *buf, size_t size, const char *fmt,
                                                      ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

const char *conc_bound_verdict_name(conc_bound_verdict_t v) {
    switch (v) {
    case CONC_BOUND_CPU: return "CPU-bound";
    case CONC_BOUND_IO: return "IO-bound";
    case CONC_BOUND_MIXED: return "mixed";
    }
    return "unknown";
}

void conc_bound_classify(conc_bound_report_t *r) {
    double u = ratio(r->user + r->sys, r->wall);
    double w = ratio(r->cpu_wait, r->wall);
    bool say_wait = w >= 0.1;
    int busy = pct(u), waiting = pct(w);
    unsigned long long vol = (unsigned long long)r->voluntary_switches;
    const char *switches = vol == 1 ? "voluntary switch" : "voluntary switches";
    char cores[32] = "", wait[64] = "";
    if (u > 1.3) /* past 1.3 it is more than one core, however it rounds */
        say(cores, sizeof cores, ", on ~%d cores", (int)fmax(2, fmin(round(u), 1e6)));
    r->utilisation = u;

    /* Busy share of the time the work was not kept off a core by others: time spent runnable but
     * waiting for a free core says the work wanted CPU, but only in proportion to how much CPU
     * it got when it ran - a sleeper delayed on a loaded machine is still a sleeper. */
    if (u / fmax(1 - w, 0.05) >= CONC_BOUND_CPU_AT) {
        r->verdict = CONC_BOUND_CPU;
        if (say_wait) say(wait, sizeof wait, " and waiting for a free core %d%%", waiting);
        say(r->reason, sizeof r->reason,
            "CPU busy %d%% of wall time (parallelism %.1f%s)%s: the work is computation", busy, u,
            cores, wait);
    } else if (u <= CONC_BOUND_IO_AT) {
        r->verdict = CONC_BOUND_IO;
        say(r->reason, sizeof r->reason,
            "CPU idle %d%% of wall time: waiting on I/O, sleep or other processes; %llu %s",
            100 - busy, vol, switches);
    } else {
        r->verdict = CONC_BOUND_MIXED;
        if (say_wait) say(wait, sizeof wait, ", waiting for a free core %d%%", waiting);
        int idle = 100 - busy - (say_wait ? waiting : 0);
        say(r->reason, sizeof r->reason,
            "CPU busy %d%% of wall time (parallelism %.1f)%s, idle %d%%: part computation, "
            "part waiting; %llu %s",
            busy, u, wait, idle < 0 ? 0 : idle, vol, switches);
    }
}
