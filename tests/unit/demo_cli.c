/* `conc demo --quick` as `make run` runs it: exit status 0, every row of both jobs and the convoy
 * panel present and measured, and only the relationships that hold with wide margins on a busy
 * 2-core machine, under sanitizers too: the sequential CPU job is CPU-bound and the sequential IO
 * job IO-bound (the bound module's verdicts); the IO job's waits overlap in VM threads, native
 * threads (the better of the two over 1.5x, against an ideal 4) and async tasks (faster than
 * sequential). Whether processes beat GIL threads on the CPU job depends on free cores, so that is
 * shown, not asserted. A machine loaded by other jobs can still squeeze one run (every wake-up
 * waits for a core): the relationships get 3 runs to hold, the structure must hold in each.
 * The JSON is checked by a short python3 script (python3 is a test dependency, scripts/deps.sh). */
/* TEST_TIMEOUT: 300 */
/* TEST_SERIAL */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

#define CLI CONC_BINARY_DIR "/tools/conc/conc"

/* Exit 0: all good; 1 (an assertion): the structure is wrong, a real failure; 3: a relationship
 * did not hold this time (a loaded machine can squeeze one run; the test runs the demo again). */
static const char checker[] =
    "import json, sys\n"
    "d = json.load(sys.stdin)\n"
    "assert d['quick'] is True and d['cpus'] >= 1 and 0 < d['core_share'] <= 1, d\n"
    "cpu, io = d['jobs']['cpu']['rows'], d['jobs']['io']['rows']\n"
    "procs = ['fork', 'spawn', 'forkserver']\n"
    "assert [r['key'] for r in cpu] == ['sequential', 'vm_threads', 'native_threads'] + procs\n"
    "assert [r['key'] for r in io] == ['sequential', 'vm_threads', 'native_threads'] + procs + "
    "['async_tasks']\n"
    "for r in cpu + io:\n"
    "    assert r['error'] is None, r\n"
    "    assert r['wall'] > 0 and r['speedup'] > 0 and r['utilisation'] >= 0, r\n"
    "    assert r['verdict'] in ('cpu', 'io', 'mixed'), r\n"
    "    assert r['label'], r\n"
    "assert cpu[0]['speedup'] == 1 and io[0]['speedup'] == 1\n"
    "c = d['convoy']\n"
    "assert c['error'] is None and c['alone'] > 0 and c['gil'] > 0 and c['io_priority'] > 0, c\n"
    "py = c['cpython']\n"
    "assert py is None or 'error' in py or (py['alone'] > 0 and py['with_cpu_thread'] > 0), py\n"
    "assert 0 < d['seconds'] < 120, d['seconds']\n"
    "rows = {r['key']: r for r in io}\n"
    "bad = []\n"
    "if cpu[0]['verdict'] != 'cpu': bad.append('CPU job sequential: %s' % cpu[0]['verdict'])\n"
    "if io[0]['verdict'] != 'io': bad.append('IO job sequential: %s' % io[0]['verdict'])\n"
    "best = max(rows['vm_threads']['speedup'], rows['native_threads']['speedup'])\n"
    "if best <= 1.5: bad.append('IO job threads: best speedup %.2f' % best)\n"
    "if rows['async_tasks']['speedup'] <= 1.0: bad.append('IO job async tasks: %.2f' % "
    "rows['async_tasks']['speedup'])\n"
    "print('demo json: ' + ('; '.join(bad) if bad else 'ok'))\n"
    "sys.exit(3 if bad else 0)\n";

static int run(const char *cmd, char *out, size_t cap) {
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    int st = pclose(f);
    fprintf(stderr, "---- %s ----\n%s", cmd, out);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* One run: 0 good, 3 a relationship failed; fails the test on a broken structure. */
static int one_run(void) {
    static char out[65536];
    double t0 = conc_monotonic();
    assert_int_equal(run(CLI " demo --quick --json", out, sizeof out), 0);
    fprintf(stderr, "(%.1f s)\n", conc_monotonic() - t0);
    char path[64], script[64], cmd[256], res[4096];
    snprintf(path, sizeof path, "/tmp/conc_demo_test_%d.json", (int)getpid());
    snprintf(script, sizeof script, "/tmp/conc_demo_test_%d.py", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(out, f);
    fclose(f);
    f = fopen(script, "w");
    assert_non_null(f);
    fputs(checker, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "python3 %s < %s 2>&1", script, path);
    int r = run(cmd, res, sizeof res);
    unlink(path);
    unlink(script);
    if (r != 0 && r != 3) fail_msg("the demo's JSON is malformed (see above)");
    return r;
}

static void quick_json(void **state) {
    (void)state;
    for (int i = 0; i < 3; i++)
        if (one_run() == 0) return;
    fail_msg("the relationships failed in 3 runs out of 3");
}

static void quick_table(void **state) {
    (void)state;
    static char out[65536];
    assert_int_equal(run(CLI " demo --quick 2>/dev/null", out, sizeof out), 0);
    static const char *want[] = {
        "CPU-bound job: 4 units of a VM countdown",
        "IO-bound job: 4 units of 12 blocking round trips",
        "sequential, 1 thread",
        "4 VM threads, one GIL",
        "4 threads, native, GIL released",
        "4 processes, fork",
        "4 processes, spawn",
        "4 processes, forkserver",
        "4 async tasks, 1 thread",
        "Convoy effect",
        "conc VM, beside 1 CPU-bound VM thread, I/O priority",
        "CPython",
        "docs/demo.md",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(out, want[i])) fail_msg("the table lacks \"%s\"", want[i]);
    assert_null(strstr(out, "failed"));
}

static void usage_errors(void **state) {
    (void)state;
    char out[4096];
    assert_int_equal(run(CLI " demo --bogus 2>&1", out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown option '--bogus'"));
    assert_int_equal(run(CLI " demo --help 2>&1", out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: conc demo"));
}

CONC_TEST_MAIN(cmocka_unit_test(quick_json), cmocka_unit_test(quick_table),
               cmocka_unit_test(usage_errors))
