/* The loader's messages: every way a program can be malformed gets "FILE:LINE: what", naming the
 * line at fault; good programs load, with comments, labels before instructions, hex and negative
 * numbers, and functions used before they are defined. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "conc.h"
#include "conc_vm.h"
#include "test.h"

static void expect_error(const char *src, const char *msg) {
    char err[CONC_VM_ERRLEN];
    conc_vm_prog_t *p = (conc_vm_prog_t *)1;
    int r = conc_vm_load("prog.s", src, strlen(src), &p, err, sizeof err);
    if (r != -EINVAL || strcmp(err, msg) != 0)
        fail_msg("program:\n%s\nexpected \"%s\", got %d \"%s\"", src, msg, r, err);
    assert_null(p);
}

static void expect_ok(const char *src) {
    char err[CONC_VM_ERRLEN];
    conc_vm_prog_t *p = NULL;
    int r = conc_vm_load("prog.s", src, strlen(src), &p, err, sizeof err);
    if (r != 0) fail_msg("program:\n%s\nrejected: %s", src, err);
    assert_non_null(p);
    conc_vm_free(p);
}

static void good_programs(void **state) {
    (void)state;
    expect_ok("func main 0\n push 0\n ret\nend\n");
    expect_ok("; comment\n# another\nfunc main 0 2 ; trailing\n"
              "  push 0x1F\n  push -9223372036854775808\n  add\n"
              "top: store 0\n  load 0\n  jz out\n  push 1\n  jmp top2\n"
              "top2: pop\nout: load 1\n  call later\n  ret\nend\n"
              "func later 1\n  load 0\n  ret\nend");        /* no final newline */
    expect_ok("func main 0\r\n push 1\r\n ret\r\nend\r\n"); /* CRLF */
    expect_ok("func main 0 1\n native pipe\n native close\n pop\n native close\n ret\nend\n");
}

static void unknown_words(void **state) {
    (void)state;
    expect_error("func main 0\n push 1\n pus 1\n ret\nend\n",
                 "prog.s:3: unknown instruction 'pus'");
    expect_error("func main 0\n native sleeep\n ret\nend\n", "prog.s:2: unknown native 'sleeep'");
    expect_error("func main 0\n call nowhere\n ret\nend\n", "prog.s:2: unknown function 'nowhere'");
    expect_error("func main 0\n jmp away\n push 0\n ret\nend\n",
                 "prog.s:2: unknown label 'away' in function 'main'");
    expect_error("func f 0\nl: push 0\n ret\nend\nfunc main 0\n jmp l\nend\n",
                 "prog.s:6: unknown label 'l' in function 'main'");
}

static void bad_operands(void **state) {
    (void)state;
    expect_error("func main 0\n push\n ret\nend\n", "prog.s:2: 'push' needs one operand");
    expect_error("func main 0\n push 1 2\n ret\nend\n", "prog.s:2: 'push' needs one operand");
    expect_error("func main 0\n push 1\n ret 1\nend\n", "prog.s:3: 'ret' takes no operand");
    expect_error("func main 0\n push 12x\n ret\nend\n", "prog.s:2: expected a number, not '12x'");
    expect_error("func main 0\n push 9223372036854775808\n ret\nend\n",
                 "prog.s:2: number out of range '9223372036854775808'");
    expect_error("func main 1 1\n load 2\n ret\nend\n",
                 "prog.s:2: no local '2' in function 'main' (it has 2)");
    expect_error("func main 0\n load -1\n ret\nend\n",
                 "prog.s:2: no local '-1' in function 'main' (it has 0)");
    expect_error("func main x\n push 0\n ret\nend\n",
                 "prog.s:1: the number of arguments must be a number from 0 to 256, not 'x'");
    expect_error("func main 200 100\n push 0\n ret\nend\n",
                 "prog.s:1: too many locals: 300 (at most 256)");
    expect_error("func 9main 0\n push 0\n ret\nend\n", "prog.s:1: bad function name '9main'");
    expect_error("func main 0\n push \x01\x02\n ret\nend\n", "prog.s:2: expected a number, not '?"
                                                             "?'");
}

static void structure(void **state) {
    (void)state;
    expect_error("push 1\n", "prog.s:1: 'push' outside a function");
    expect_error("end\n", "prog.s:1: 'end' outside a function");
    expect_error("func main 0\n push 0\n ret\n", "prog.s:1: function 'main' has no 'end'");
    expect_error("func main 0\nfunc f 0\n",
                 "prog.s:2: 'func' inside function 'main' (missing 'end'?)");
    expect_error("func main 0\nend\n", "prog.s:2: function 'main' is empty");
    expect_error("func main 0\n push 0\n ret\nend\nfunc main 0\n push 0\n ret\nend\n",
                 "prog.s:5: function 'main' already defined on line 1");
    expect_error("func main 0\nl: push 0\nl: ret\nend\n",
                 "prog.s:3: label 'l' already defined on line 2");
    expect_error("", "prog.s:1: no functions in the program");
    expect_error("; nothing\n\n", "prog.s:2: no functions in the program");
    expect_ok("func main 0\n push 0\n ret\nx:\nend\n"); /* unused: harmless */
    expect_error(
        "func main 0\n jmp x\n push 0\n ret\nx:\nend\n",
        "prog.s:2: label 'x' is at the end of function 'main', after its last instruction");
    char err[CONC_VM_ERRLEN];
    conc_vm_prog_t *p;
    static const char nul[] = "func main 0\n push 0\n ret\nend\0\n";
    assert_int_equal(conc_vm_load("prog.s", nul, sizeof nul - 1, &p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "prog.s:4: NUL byte in the text");
}

static void stack_discipline(void **state) {
    (void)state;
    expect_error("func main 0\n add\n ret\nend\n",
                 "prog.s:2: 'add' needs 2 values on the stack, there are only 0");
    expect_error("func main 0\n push 1\n add\n ret\nend\n",
                 "prog.s:3: 'add' needs 2 values on the stack, there is only 1");
    expect_error("func main 0\n ret\nend\n",
                 "prog.s:2: 'ret' needs 1 value on the stack, there are only 0");
    expect_error("func main 0\n push 1\n push 2\n ret\nend\n",
                 "prog.s:4: 'ret' with 2 values on the stack: leave exactly one");
    expect_error("func main 0\n push 1\n pop\nend\n",
                 "prog.s:3: function 'main' runs off its end after this line: end it with 'ret' "
                 "or 'jmp'");
    expect_error("func main 0\nl: push 1\n jmp l\nend\n",
                 "prog.s:2: paths reach this line with different stack depths (0 and 1)");
    expect_error("func main 0\n push 1\n call two\n ret\nend\nfunc two 2\n push 0\n ret\nend\n",
                 "prog.s:3: 'call' needs 2 values on the stack, there is only 1");
    expect_error("func main 0\n push 1\n native write\n ret\nend\n",
                 "prog.s:3: 'native' needs 2 values on the stack, there is only 1");
    /* 1025 pushes: deeper than one function's operand stack may go */
    char big[16384];
    size_t n = (size_t)snprintf(big, sizeof big, "func main 0\n");
    for (int i = 0; i < 1025; i++) n += (size_t)snprintf(big + n, sizeof big - n, "push 1\n");
    snprintf(big + n, sizeof big - n, "ret\nend\n");
    expect_error(big, "prog.s:1026: stack too deep (over 1024 values)");
}

static void files(void **state) {
    (void)state;
    char err[CONC_VM_ERRLEN];
    conc_vm_prog_t *p;
    assert_int_equal(conc_vm_load_file("/nonexistent/x.s", &p, err, sizeof err), -ENOENT);
    assert_string_equal(err, "/nonexistent/x.s: cannot read: No such file or directory");
    assert_int_equal(conc_vm_load_file("/", &p, err, sizeof err), -EINVAL);
    assert_string_equal(err, "/: cannot read: not a regular file");
    assert_int_equal(
        conc_vm_load_file(CONC_SOURCE_DIR "/vm/examples/countdown.s", &p, err, sizeof err), 0);
    assert_int_equal(conc_vm_arity(p, "main"), 0);
    assert_int_equal(conc_vm_arity(p, "countdown"), 1);
    assert_int_equal(conc_vm_arity(p, "nope"), -ENOENT);
    conc_vm_free(p);
    /* a tiny error buffer still gets a terminated message */
    char tiny[8];
    assert_int_equal(conc_vm_load("prog.s", "x", 1, &p, tiny, sizeof tiny), -EINVAL);
    assert_int_equal(strlen(tiny), 7);
}

CONC_TEST_MAIN(cmocka_unit_test(good_programs), cmocka_unit_test(unknown_words),
               cmocka_unit_test(bad_operands), cmocka_unit_test(structure),
               cmocka_unit_test(stack_discipline), cmocka_unit_test(files))
