/* The interpreter: arithmetic and comparisons with their edge cases (wrapping, C division),
 * locals, calls and recursion, arguments, runtime errors with their line, threads (spawn, join, the
 * implicit join at the end of a run, an error in a thread), and the GIL: threads running VM code
 * share it (hand-overs happen), natives that block release it (sleeps overlap). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "conc.h"
#include "conc_vm.h"
#include "test.h"

static conc_vm_prog_t *load(const char *src) {
    char err[CONC_VM_ERRLEN];
    conc_vm_prog_t *p = NULL;
    if (conc_vm_load("t.s", src, strlen(src), &p, err, sizeof err) != 0)
        fail_msg("program rejected: %s\n%s", err, src);
    return p;
}

/* The value of a straight-line body that leaves one value on the stack. */
static int64_t calc(const char *body) {
    char src[1024];
    snprintf(src, sizeof src, "func main 0 2\n%s\nret\nend\n", body);
    conc_vm_prog_t *p = load(src);
    int64_t v = 12345;
    char err[CONC_VM_ERRLEN];
    int r = conc_vm_run(p, "main", NULL, 0, NULL, &v, err, sizeof err);
    if (r != 0) fail_msg("%s: %s", body, err);
    conc_vm_free(p);
    return v;
}

static void arithmetic(void **state) {
    (void)state;
    assert_int_equal(calc("push 7\npush 3\nsub"), 4);
    assert_int_equal(calc("push 7\npush 3\nmul"), 21);
    assert_int_equal(calc("push -7\npush 2\ndiv"), -3); /* C: truncation toward zero */
    assert_int_equal(calc("push -7\npush 2\nmod"), -1);
    assert_int_equal(calc("push 5\nneg"), -5);
    assert_int_equal(calc("push 0x7fffffffffffffff\npush 1\nadd"), INT64_MIN); /* wraps */
    assert_int_equal(calc("push -9223372036854775808\npush -1\ndiv"), INT64_MIN);
    assert_int_equal(calc("push -9223372036854775808\npush -1\nmod"), 0);
    assert_int_equal(calc("push -9223372036854775808\nneg"), INT64_MIN);
    assert_int_equal(calc("push 1\npush 2\nswap\nsub"), 1);
    assert_int_equal(calc("push 1\npush 2\nover\nadd\nadd"), 4);
    assert_int_equal(calc("push 3\ndup\nmul"), 9);
    assert_int_equal(calc("push 3\nstore 1\nload 1\nload 1\nadd"), 6);
    assert_int_equal(calc("load 0"), 0); /* extra locals start at 0 */
    assert_int_equal(calc("push 1\npush 2\npop"), 1);
    assert_int_equal(calc("nop\npush 1"), 1);
}

static void comparisons(void **state) {
    (void)state;
    assert_int_equal(calc("push 1\npush 2\nlt"), 1);
    assert_int_equal(calc("push 2\npush 2\nlt"), 0);
    assert_int_equal(calc("push 2\npush 2\nle"), 1);
    assert_int_equal(calc("push 3\npush 2\ngt"), 1);
    assert_int_equal(calc("push 2\npush 3\nge"), 0);
    assert_int_equal(calc("push 2\npush 2\neq"), 1);
    assert_int_equal(calc("push 2\npush 2\nne"), 0);
    assert_int_equal(calc("push -1\npush 1\nlt"), 1); /* signed */
    assert_int_equal(calc("push 0\nnot"), 1);
    assert_int_equal(calc("push 42\nnot"), 0);
    assert_int_equal(calc("push 0\njz a\npush 1\njmp b\na: push 2\nb: nop"), 2);
    assert_int_equal(calc("push 5\njnz a\npush 1\njmp b\na: push 2\nb: nop"), 2);
}

static const char *recursive =
    "func fact 1\n"
    "  load 0\n  push 1\n  le\n  jz more\n  push 1\n  ret\n"
    "more:\n  load 0\n  load 0\n  push 1\n  sub\n  call fact\n  mul\n"
    "  ret\nend\n"
    "func fib 1\n"
    "  load 0\n  push 2\n  lt\n  jz more\n  load 0\n  ret\n"
    "more:\n  load 0\n  push 1\n  sub\n  call fib\n"
    "  load 0\n  push 2\n  sub\n  call fib\n  add\n  ret\nend\n"
    "func sum3 3\n  load 0\n  load 1\n  add\n  load 2\n  add\n  ret\nend\n"
    "func deep 1\n  load 0\n  push 1\n  add\n  call deep\n  ret\nend\n";

static void calls(void **state) {
    (void)state;
    conc_vm_prog_t *p = load(recursive);
    char err[CONC_VM_ERRLEN];
    int64_t v, a = 20, three[3] = {1, 20, 300};
    assert_int_equal(conc_vm_run(p, "fact", &a, 1, NULL, &v, err, sizeof err), 0);
    assert_int_equal(v, 2432902008176640000LL);
    assert_int_equal(conc_vm_run(p, "fib", &a, 1, NULL, &v, err, sizeof err), 0);
    assert_int_equal(v, 6765);
    assert_int_equal(conc_vm_run(p, "sum3", three, 3, NULL, &v, err, sizeof err), 0);
    assert_int_equal(v, 321);
    assert_int_equal(conc_vm_run(p, "sum3", three, 2, NULL, &v, err, sizeof err), -EINVAL);
    assert_string_equal(err, "t.s: 'sum3' takes 3 arguments, not 2");
    assert_int_equal(conc_vm_run(p, "nope", NULL, 0, NULL, &v, err, sizeof err), -ENOENT);
    assert_string_equal(err, "t.s: no function 'nope'");
    a = 0;
    assert_int_equal(conc_vm_run(p, "deep", &a, 1, NULL, &v, err, sizeof err), -EINVAL);
    assert_string_equal(err, "t.s:48: recursion too deep");
    conc_vm_free(p);
}

static void runtime_errors(void **state) {
    (void)state;
    char err[CONC_VM_ERRLEN];
    conc_vm_prog_t *p = load("func main 0\n push 1\n push 0\n div\n ret\nend\n"
                             "func badmod 0\n push 1\n push 0\n mod\n ret\nend\n"
                             "func badjoin 0\n push 7\n join\n ret\nend\n"
                             "func twice 0\n spawn badmod\n dup\n join\n pop\n join\n"
                             " ret\nend\n"
                             "func inthread 0\n spawn badmod\n join\n ret\nend\n");
    assert_int_equal(conc_vm_run(p, "main", NULL, 0, NULL, NULL, err, sizeof err), -EINVAL);
    assert_string_equal(err, "t.s:4: division by zero");
    assert_int_equal(conc_vm_run(p, "badmod", NULL, 0, NULL, NULL, err, sizeof err), -EINVAL);
    assert_string_equal(err, "t.s:10: division by zero");
    assert_int_equal(conc_vm_run(p, "badjoin", NULL, 0, NULL, NULL, err, sizeof err), -EINVAL);
    assert_string_equal(err, "t.s:15: join: 7 is not a thread handle");
    assert_int_equal(conc_vm_run(p, "twice", NULL, 0, NULL, NULL, err, sizeof err), -EINVAL);
    assert_string_equal(err, "t.s:23: join: thread 1 was already joined");
    /* an error in a spawned thread: join gives 0, the run reports the thread's error */
    int64_t v = 99;
    assert_int_equal(conc_vm_run(p, "inthread", NULL, 0, NULL, &v, err, sizeof err), -EINVAL);
    assert_string_equal(err, "t.s:10: division by zero");
    assert_int_equal(v, 99);
    conc_vm_free(p);
}

static void threads(void **state) {
    (void)state;
    /* 8 threads each sum 1..n for their own n; the results come back through join in order */
    conc_vm_prog_t *p = load("func main 0 9\n"
                             " push 0\n store 8\n"
                             "spawn_more:\n load 8\n push 8\n eq\n jnz joins\n"
                             " load 8\n push 1000\n mul\n spawn sum\n load 8\n store 8\n"
                             " pop\n load 8\n push 1\n add\n store 8\n jmp spawn_more\n"
                             "joins:\n push 0\n"
                             " push 1\n join\n add\n push 2\n join\n add\n push 3\n join\n add\n"
                             " push 4\n join\n add\n push 5\n join\n add\n push 6\n join\n add\n"
                             " push 7\n join\n add\n push 8\n join\n add\n ret\nend\n"
                             "func sum 1 1\n"
                             "loop:\n load 0\n jz done\n load 1\n load 0\n add\n store 1\n"
                             " load 0\n push 1\n sub\n store 0\n jmp loop\n"
                             "done:\n load 1\n ret\nend\n"
                             "func orphan 0\n push 5\n spawn printer\n pop\n push 0\n ret\nend\n"
                             "func printer 1\n push 20\n native sleep\n load 0\n native print\n"
                             " push 0\n ret\nend\n");
    char err[CONC_VM_ERRLEN];
    int64_t v;
    assert_int_equal(conc_vm_run(p, "main", NULL, 0, NULL, &v, err, sizeof err), 0);
    int64_t want = 0;
    for (int64_t i = 0; i < 8; i++) want += (i * 1000) * (i * 1000 + 1) / 2;
    assert_int_equal(v, want);
    /* a thread nobody joined is joined before the run returns: its print has happened */
    FILE *out = tmpfile();
    assert_non_null(out);
    conc_vm_opts_t o = {NULL, out};
    assert_int_equal(conc_vm_run(p, "orphan", NULL, 0, &o, &v, err, sizeof err), 0);
    char line[32] = "";
    rewind(out);
    assert_non_null(fgets(line, sizeof line, out));
    assert_string_equal(line, "5\n");
    fclose(out);
    conc_vm_free(p);
}

static const char *countdown = "func main 0\n push 3000000\n spawn count\n push 3000000\n"
                               " call count\n pop\n join\n ret\nend\n"
                               "func count 1\nloop:\n load 0\n jz done\n load 0\n push 1\n sub\n"
                               " store 0\n jmp loop\ndone:\n load 0\n ret\nend\n"
                               "func sleepers 0 4\n"
                               " push 300\n spawn nap\n store 0\n push 300\n spawn nap\n store 1\n"
                               " push 300\n spawn nap\n store 2\n push 300\n spawn nap\n store 3\n"
                               " load 0\n join\n load 1\n join\n add\n load 2\n join\n add\n"
                               " load 3\n join\n add\n ret\nend\n"
                               "func nap 1\n load 0\n native sleep\n push 1\n ret\nend\n";

/* Two threads interpreting at once hand the GIL over: the waiting one asks, the holder's tick
 * drops it. */
static void gil_shared(void **state) {
    (void)state;
    conc_vm_prog_t *p = load(countdown);
    conc_gil_t gil;
    assert_int_equal(conc_gil_init(&gil, NULL), 0);
    conc_vm_opts_t o = {&gil, NULL};
    char err[CONC_VM_ERRLEN];
    int64_t v = -1;
    assert_int_equal(conc_vm_run(p, "main", NULL, 0, &o, &v, err, sizeof err), 0);
    assert_int_equal(v, 0);
    conc_gil_stats_t s;
    conc_gil_stats(&gil, &s);
    assert_true(s.forced_drops > 0);
    assert_true(s.switches > 1);
    assert_false(conc_gil_held(&gil));
    conc_gil_destroy(&gil);
    conc_vm_free(p);
}

/* Four threads sleeping 0.3 s each overlap: native sleep releases the GIL. */
static void natives_release(void **state) {
    (void)state;
    conc_vm_prog_t *p = load(countdown);
    char err[CONC_VM_ERRLEN];
    int64_t v = -1;
    double t0 = conc_monotonic();
    assert_int_equal(conc_vm_run(p, "sleepers", NULL, 0, NULL, &v, err, sizeof err), 0);
    double wall = conc_monotonic() - t0;
    assert_int_equal(v, 4);
    assert_true(wall >= 0.29);
    if (wall >= 0.9) fail_msg("4 sleeps of 0.3 s took %.2f s: they did not overlap", wall);
    conc_vm_free(p);
}

static void natives_values(void **state) {
    (void)state;
    /* read/write on a pipe, close, errors as values */
    conc_vm_prog_t *p =
        load("func main 0 2\n native pipe\n store 1\n store 0\n"
             " load 1\n push 300\n native write\n pop\n" /* 300 & 255 = 44 */
             " load 1\n native close\n pop\n"
             " load 0\n native read\n push 1000\n mul\n"
             " load 0\n native read\n add\n" /* EOF: -1 */
             " load 0\n native close\n pop\n"
             " push -5\n native read\n add\n ret\nend\n" /* -EBADF */
             "func spin 0\n push 1000\n native spin\n ret\nend\n"
             "func rt 0 2\n native socketpair\n store 1\n store 0\n"
             " load 1\n push 7\n native write\n pop\n"
             " load 0\n native read\n"
             " load 0\n native close\n pop\n load 1\n native close\n pop\n ret\nend\n");
    char err[CONC_VM_ERRLEN];
    int64_t v;
    assert_int_equal(conc_vm_run(p, "main", NULL, 0, NULL, &v, err, sizeof err), 0);
    assert_int_equal(v, 44 * 1000 - 1 - EBADF);
    assert_int_equal(conc_vm_run(p, "spin", NULL, 0, NULL, &v, err, sizeof err), 0);
    assert_true(v != 0);
    assert_int_equal(conc_vm_run(p, "rt", NULL, 0, NULL, &v, err, sizeof err), 0);
    assert_int_equal(v, 7);
    conc_vm_free(p);
}

CONC_TEST_MAIN(cmocka_unit_test(arithmetic), cmocka_unit_test(comparisons), cmocka_unit_test(calls),
               cmocka_unit_test(runtime_errors), cmocka_unit_test(threads),
               cmocka_unit_test(gil_shared), cmocka_unit_test(natives_release),
               cmocka_unit_test(natives_values))
