/* The loader: text assembly in, a verified program out, or one "FILE:LINE: message".
 *
 * Two passes over the text would read it twice; instead one pass emits instructions and records
 * every name used before it is known (a label further down, a function defined later) as a fixup,
 * resolved once the whole file is read. Names live in one small open-addressing table keyed by
 * (scope, name): functions in scope 0, a function's labels in scope 1 + its index, so a hostile
 * file with a million labels costs a million hash probes, not a million squared compares.
 *
 * Then the verifier walks each function's control flow and gives every instruction one stack
 * depth: what it pops must be there, paths that meet must agree, and no path may fall off the
 * end. After that the interpreter can trust the stack completely (vm/exec.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vm_int.h"

#define VM_MAX_FILE (16u << 20)

#define VM_OP_INFO(op, name, arg, pops, pushes) {name, arg, pops, pushes},
const vm_opinfo_t vm_opinfo[OP__COUNT] = {VM_OPS(VM_OP_INFO)};
#undef VM_OP_INFO

typedef struct {
    uint32_t scope; /* 0: functions; 1 + f: labels of function f; UINT32_MAX: empty slot */
    uint32_t value; /* function index or instruction index */
    uint32_t line;
    char name[64];
} sym_t;

typedef struct {
    uint32_t insn, line, scope;
    char name[64];
} fixup_t;

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
    int nomem;
    conc_vm_prog_t *p;
    uint32_t capcode, capfuncs;
    sym_t *syms;
    size_t nsyms, capsyms; /* capsyms: a power of two */
    fixup_t *fix;
    size_t nfix, capfix;
} asm_t;

__attribute__((format(printf, 3, 4))) static int fail(asm_t *a, uint32_t line, const char *fmt,
                                                      ...) {
    if (a->errlen == 0) return -EINVAL;
    int n = line ? snprintf(a->err, a->errlen, "%s:%u: ", a->file, line)
                 : snprintf(a->err, a->errlen, "%s: ", a->file);
    if (n < 0 || (size_t)n >= a->errlen) return -EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->err + n, a->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int nomem(asm_t *a) {
    a->nomem = 1;
    if (a->errlen) snprintf(a->err, a->errlen, "%s: out of memory", a->file);
    return -ENOMEM;
}

static int grow(void **ptr, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need) n *= 2;
    void *q = realloc(*ptr, n * size);
    if (!q) return -1;
    *ptr = q;
    *cap = n;
    return 0;
}

static uint64_t hash(uint32_t scope, const char *s) {
    uint64_t h = 1469598103934665603ULL ^ scope;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static sym_t *sym_find(asm_t *a, uint32_t scope, const char *name) {
    if (!a->capsyms) return NULL;
    size_t mask = a->capsyms - 1;
    for (size_t i = hash(scope, name) & mask;; i = (i + 1) & mask) {
        sym_t *s = &a->syms[i];
        if (s->scope == UINT32_MAX) return NULL;
        if (s->scope == scope && !strcmp(s->name, name)) return s;
    }
}

static int sym_add(asm_t *a, uint32_t scope, const char *name, uint32_t value, uint32_t line) {
    if ((a->nsyms + 1) * 2 > a->capsyms) { /* keep the table at most half full */
        size_t cap = a->capsyms ? a->capsyms * 2 : 256;
        sym_t *t = malloc(cap * sizeof *t);
        if (!t) return -1;
        for (size_t i = 0; i < cap; i++) t[i].scope = UINT32_MAX;
        for (size_t i = 0; i < a->capsyms; i++) {
            if (a->syms[i].scope == UINT32_MAX) continue;
            size_t j = hash(a->syms[i].scope, a->syms[i].name) & (cap - 1);
            while (t[j].scope != UINT32_MAX) j = (j + 1) & (cap - 1);
            t[j] = a->syms[i];
        }
        free(a->syms);
        a->syms = t;
        a->capsyms = cap;
    }
    size_t mask = a->capsyms - 1, i = hash(scope, name) & mask;
    while (a->syms[i].scope != UINT32_MAX) i = (i + 1) & mask;
    a->syms[i].scope = scope;
    a->syms[i].value = value;
    a->syms[i].line = line;
    strcpy(a->syms[i].name, name);
    a->nsyms++;
    return 0;
}

/* ---- lexing: one line at a time, split on blanks, comments from ';' or '#' ---- */

#define MAX_TOKENS 8

typedef struct {
    const char *s;
    size_t len;
} tok_t;

/* Printable form of a token for a message: at most 40 bytes, odd bytes as '?'. */
static const char *show(const tok_t *t, char *buf) {
    size_t n = t->len < 40 ? t->len : 40;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t->s[i];
        buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    strcpy(buf + n, t->len > 40 ? "..." : "");
    return buf;
}

static int is_name(const tok_t *t) {
    if (t->len == 0 || t->len > 63) return 0;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return 0;
    }
    return 1;
}

static int tok_is(const tok_t *t, const char *word) {
    return t->len == strlen(word) && !memcmp(t->s, word, t->len);
}

/* A decimal or 0x-hex integer with an optional sign, in int64 range. */
static int parse_int(const tok_t *t, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (i < t->len && (t->s[i] == '-' || t->s[i] == '+')) neg = t->s[i++] == '-';
    int base = 10;
    if (i + 1 < t->len && t->s[i] == '0' && (t->s[i + 1] == 'x' || t->s[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    if (i >= t->len) return -1;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < t->len; i++) {
        char c = t->s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : 99;
        if (d >= base) return -1;
        if (v > (limit - (uint64_t)d) / (uint64_t)base) return -2;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int parse_count(asm_t *a, uint32_t line, const tok_t *t, const char *what, uint32_t max,
                       uint32_t *out) {
    int64_t v;
    char b[48];
    if (parse_int(t, &v) != 0 || v < 0 || v > (int64_t)max)
        return fail(a, line, "%s must be a number from 0 to %u, not '%s'", what, max, show(t, b));
    *out = (uint32_t)v;
    return 0;
}

/* ---- assembling ---- */

static int emit(asm_t *a, uint32_t op, int64_t arg, uint32_t line) {
    conc_vm_prog_t *p = a->p;
    if (p->ncode >= VM_MAX_CODE)
        return fail(a, line, "too many instructions (at most %u)", VM_MAX_CODE);
    size_t cap = a->capcode;
    if (grow((void **)&p->code, &cap, p->ncode + 1, sizeof *p->code)) return nomem(a);
    a->capcode = (uint32_t)cap;
    p->code[p->ncode++] = (vm_insn_t){arg, op, line};
    return 0;
}

static int add_fixup(asm_t *a, uint32_t scope, const tok_t *t, uint32_t line) {
    if (grow((void **)&a->fix, &a->capfix, a->nfix + 1, sizeof *a->fix)) return nomem(a);
    fixup_t *f = &a->fix[a->nfix++];
    f->insn = a->p->ncode - 1;
    f->line = line;
    f->scope = scope;
    memcpy(f->name, t->s, t->len);
    f->name[t->len] = 0;
    return 0;
}

static int find_op(const tok_t *t) {
    for (int i = 0; i < OP__COUNT; i++)
        if (tok_is(t, vm_opinfo[i].name)) return i;
    return -1;
}

/* Functions: cur is the index of the open one, or -1 between functions. */
static int line_func(asm_t *a, uint32_t line, tok_t *tk, int n, int *cur) {
    conc_vm_prog_t *p = a->p;
    char b[48];
    if (*cur >= 0)
        return fail(a, line, "'func' inside function '%s' (missing 'end'?)", p->funcs[*cur].name);
    if (n < 3 || n > 4) return fail(a, line, "expected 'func NAME NARGS [NLOCALS]'");
    if (!is_name(&tk[1])) return fail(a, line, "bad function name '%s'", show(&tk[1], b));
    uint32_t nargs = 0, extra = 0;
    int r = parse_count(a, line, &tk[2], "the number of arguments", VM_MAX_LOCALS, &nargs);
    if (r == 0 && n == 4)
        r = parse_count(a, line, &tk[3], "the number of locals", VM_MAX_LOCALS, &extra);
    if (r) return r;
    if (nargs + extra > VM_MAX_LOCALS)
        return fail(a, line, "too many locals: %u (at most %u)", nargs + extra, VM_MAX_LOCALS);
    char name[64];
    memcpy(name, tk[1].s, tk[1].len);
    name[tk[1].len] = 0;
    sym_t *old = sym_find(a, 0, name);
    if (old) return fail(a, line, "function '%s' already defined on line %u", name, old->line);
    if (p->nfuncs >= VM_MAX_FUNCS)
        return fail(a, line, "too many functions (at most %u)", VM_MAX_FUNCS);
    size_t cap = a->capfuncs;
    if (grow((void **)&p->funcs, &cap, p->nfuncs + 1, sizeof *p->funcs)) return nomem(a);
    a->capfuncs = (uint32_t)cap;
    vm_func_t *f = &p->funcs[p->nfuncs];
    memset(f, 0, sizeof *f);
    strcpy(f->name, name);
    f->nargs = nargs;
    f->nlocals = nargs + extra;
    f->entry = p->ncode;
    f->line = line;
    if (sym_add(a, 0, name, p->nfuncs, line)) return nomem(a);
    *cur = (int)p->nfuncs++;
    return 0;
}

static int line_insn(asm_t *a, uint32_t line, tok_t *tk, int n, int cur) {
    char b[48];
    int op = find_op(&tk[0]);
    if (op < 0) return fail(a, line, "unknown instruction '%s'", show(&tk[0], b));
    if (cur < 0) return fail(a, line, "'%s' outside a function", vm_opinfo[op].name);
    const vm_opinfo_t *info = &vm_opinfo[op];
    int want = info->arg == ARG_NONE ? 1 : 2;
    if (n != want) {
        if (want == 1) return fail(a, line, "'%s' takes no operand", info->name);
        return fail(a, line, "'%s' needs one operand", info->name);
    }
    vm_func_t *f = &a->p->funcs[cur];
    int64_t v = 0;
    switch (info->arg) {
    case ARG_INT: {
        int r = parse_int(&tk[1], &v);
        if (r == -2) return fail(a, line, "number out of range '%s'", show(&tk[1], b));
        if (r) return fail(a, line, "expected a number, not '%s'", show(&tk[1], b));
        break;
    }
    case ARG_LOCAL:
        if (parse_int(&tk[1], &v) || v < 0 || v >= (int64_t)f->nlocals)
            return fail(a, line, "no local '%s' in function '%s' (it has %u)", show(&tk[1], b),
                        f->name, f->nlocals);
        break;
    case ARG_LABEL:
    case ARG_FUNC:
        if (!is_name(&tk[1])) return fail(a, line, "bad name '%s'", show(&tk[1], b));
        break;
    case ARG_NATIVE: {
        size_t i = 0;
        while (i < vm_nnatives && !tok_is(&tk[1], vm_natives[i].name)) i++;
        if (i == vm_nnatives) return fail(a, line, "unknown native '%s'", show(&tk[1], b));
        v = (int64_t)i;
        break;
    }
    }
    int r = emit(a, (uint32_t)op, v, line);
    if (r) return r;
    if (info->arg == ARG_LABEL) return add_fixup(a, 1 + (uint32_t)cur, &tk[1], line);
    if (info->arg == ARG_FUNC) return add_fixup(a, 0, &tk[1], line);
    return 0;
}

static int do_line(asm_t *a, uint32_t line, const char *s, size_t len, int *cur) {
    tok_t tk[MAX_TOKENS];
    int n = 0;
    char b[48];
    for (size_t i = 0; i < len;) {
        char c = s[i];
        if (c == ';' || c == '#') break;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '\f' &&
               s[j] != '\v' && s[j] != ';' && s[j] != '#')
            j++;
        if (n == MAX_TOKENS) return fail(a, line, "too many words on one line");
        tk[n++] = (tok_t){s + i, j - i};
        i = j;
    }
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < tk[k].len; i++)
            if (tk[k].s[i] == 0) return fail(a, line, "NUL byte in the text");
    /* Labels first: "name:" words, possibly before an instruction on the same line. */
    int k = 0;
    while (k < n && tk[k].len > 1 && tk[k].s[tk[k].len - 1] == ':') {
        tok_t name = {tk[k].s, tk[k].len - 1};
        if (!is_name(&name)) return fail(a, line, "bad label '%s'", show(&tk[k], b));
        if (*cur < 0) return fail(a, line, "label '%s' outside a function", show(&name, b));
        char nm[64];
        memcpy(nm, name.s, name.len);
        nm[name.len] = 0;
        sym_t *old = sym_find(a, 1 + (uint32_t)*cur, nm);
        if (old) return fail(a, line, "label '%s' already defined on line %u", nm, old->line);
        if (sym_add(a, 1 + (uint32_t)*cur, nm, a->p->ncode, line)) return nomem(a);
        k++;
    }
    if (k == n) return 0;
    if (tok_is(&tk[k], "func")) {
        if (k > 0) return fail(a, line, "a label cannot stand before 'func'");
        return line_func(a, line, tk, n, cur);
    }
    if (tok_is(&tk[k], "end")) {
        if (n != k + 1) return fail(a, line, "'end' takes no operand");
        if (*cur < 0) return fail(a, line, "'end' outside a function");
        a->p->funcs[*cur].end = a->p->ncode;
        if (a->p->funcs[*cur].end == a->p->funcs[*cur].entry)
            return fail(a, line, "function '%s' is empty", a->p->funcs[*cur].name);
        *cur = -1;
        return 0;
    }
    return line_insn(a, line, tk + k, n - k, *cur);
}

static int resolve(asm_t *a) {
    conc_vm_prog_t *p = a->p;
    for (size_t i = 0; i < a->nfix; i++) {
        fixup_t *f = &a->fix[i];
        sym_t *s = sym_find(a, f->scope, f->name);
        if (!s) {
            if (f->scope == 0) return fail(a, f->line, "unknown function '%s'", f->name);
            return fail(a, f->line, "unknown label '%s' in function '%s'", f->name,
                        p->funcs[f->scope - 1].name);
        }
        if (f->scope != 0 && s->value >= p->funcs[f->scope - 1].end)
            return fail(a, f->line,
                        "label '%s' is at the end of function '%s', after its last "
                        "instruction",
                        f->name, p->funcs[f->scope - 1].name);
        p->code[f->insn].arg = s->value;
    }
    return 0;
}

/* How many values instruction i pops and pushes. */
static void effect(const conc_vm_prog_t *p, const vm_insn_t *in, int *pops, int *pushes) {
    const vm_opinfo_t *info = &vm_opinfo[in->op];
    *pops = info->pops;
    *pushes = info->pushes;
    if (in->op == OP_CALL || in->op == OP_SPAWN) *pops = (int)p->funcs[in->arg].nargs;
    if (in->op == OP_NATIVE) {
        *pops = vm_natives[in->arg].nargs;
        *pushes = vm_natives[in->arg].nret;
    }
}

/* Give every instruction of f one stack depth (depth[] is scratch, one slot per instruction of
 * the program), following jumps with a worklist. */
static int verify(asm_t *a, vm_func_t *f, int32_t *depth, uint32_t *work) {
    conc_vm_prog_t *p = a->p;
    for (uint32_t i = f->entry; i < f->end; i++) depth[i] = -1;
    size_t nwork = 0;
    depth[f->entry] = 0;
    work[nwork++] = f->entry;
    uint32_t max = 0;
    while (nwork) {
        uint32_t i = work[--nwork];
        const vm_insn_t *in = &p->code[i];
        int pops, pushes;
        effect(p, in, &pops, &pushes);
        int32_t d = depth[i];
        if (d < pops)
            return fail(a, in->line, "'%s' needs %d value%s on the stack, there %s only %d",
                        vm_opinfo[in->op].name, pops, pops == 1 ? "" : "s", d == 1 ? "is" : "are",
                        d);
        int32_t nd = d - pops + pushes;
        if (nd > VM_MAX_STACK)
            return fail(a, in->line, "stack too deep (over %d values)", VM_MAX_STACK);
        if ((uint32_t)nd > max) max = (uint32_t)nd;
        uint32_t next[2];
        int nn = 0;
        if (in->op == OP_RET) {
            if (d != 1)
                return fail(a, in->line, "'ret' with %d values on the stack: leave exactly one", d);
        } else if (in->op == OP_JMP) {
            next[nn++] = (uint32_t)in->arg;
        } else {
            if (i + 1 >= f->end)
                return fail(a, in->line,
                            "function '%s' runs off its end after this line: "
                            "end it with 'ret' or 'jmp'",
                            f->name);
            next[nn++] = i + 1;
            if (in->op == OP_JZ || in->op == OP_JNZ) next[nn++] = (uint32_t)in->arg;
        }
        for (int k = 0; k < nn; k++) {
            uint32_t j = next[k];
            if (depth[j] < 0) {
                depth[j] = nd;
                work[nwork++] = j;
            } else if (depth[j] != nd) {
                return fail(a, p->code[j].line,
                            "paths reach this line with different stack depths (%d and %d)",
                            depth[j], nd);
            }
        }
    }
    f->max_stack = max;
    return 0;
}

static int finish(asm_t *a, int cur, uint32_t lines) {
    conc_vm_prog_t *p = a->p;
    if (cur >= 0)
        return fail(a, p->funcs[cur].line, "function '%s' has no 'end'", p->funcs[cur].name);
    if (p->nfuncs == 0) return fail(a, lines, "no functions in the program");
    int r = resolve(a);
    if (r) return r;
    int32_t *depth = malloc(((size_t)p->ncode + 1) * sizeof *depth);
    uint32_t *work = malloc(((size_t)p->ncode + 1) * sizeof *work);
    if (!depth || !work) r = nomem(a);
    for (uint32_t i = 0; r == 0 && i < p->nfuncs; i++) r = verify(a, &p->funcs[i], depth, work);
    free(depth);
    free(work);
    return r;
}

void conc_vm_free(conc_vm_prog_t *p) {
    if (!p) return;
    free(p->name);
    free(p->code);
    free(p->funcs);
    free(p);
}

int conc_vm_load(const char *name, const char *src, size_t len, conc_vm_prog_t **out, char *err,
                 size_t errlen) {
    if (errlen) err[0] = 0;
    if (!name) name = "<program>";
    asm_t a = {.file = name, .err = err, .errlen = errlen};
    if (!out || (!src && len)) return fail(&a, 0, "no program");
    *out = NULL;
    a.p = calloc(1, sizeof *a.p);
    if (!a.p || !(a.p->name = strdup(name))) {
        if (a.p) free(a.p);
        return nomem(&a);
    }
    int r = 0, cur = -1;
    uint32_t line = 0;
    for (size_t i = 0; r == 0 && i < len;) {
        const char *nl = memchr(src + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (src + i)) : len - i;
        if (++line == UINT32_MAX) {
            r = fail(&a, line, "too many lines");
            break;
        }
        r = do_line(&a, line, src + i, n, &cur);
        i += n + 1;
    }
    if (r == 0) r = finish(&a, cur, line ? line : 1);
    free(a.syms);
    free(a.fix);
    if (r) {
        conc_vm_free(a.p);
        return r;
    }
    *out = a.p;
    return 0;
}

int conc_vm_load_file(const char *path, conc_vm_prog_t **out, char *err, size_t errlen) {
    if (errlen) err[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int e = 0;
    char *buf = NULL;
    size_t len = 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        e = errno;
    } else if (!S_ISREG(st.st_mode) || st.st_size > (off_t)VM_MAX_FILE) {
        e = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
    } else if (!(buf = malloc((size_t)st.st_size + 1))) {
        e = ENOMEM;
    } else {
        while (len < (size_t)st.st_size) {
            ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) e = errno;
            if (n <= 0) break;
            len += (size_t)n;
        }
    }
    if (fd >= 0) close(fd);
    if (e) {
        free(buf);
        if (errlen)
            snprintf(err, errlen, "%s: cannot read: %s", path,
                     e == EINVAL ? "not a regular file" : strerror(e));
        return -e;
    }
    int r = conc_vm_load(path, buf, len, out, err, errlen);
    free(buf);
    return r;
}

int conc_vm_arity(const conc_vm_prog_t *p, const char *name) {
    for (uint32_t i = 0; p && name && i < p->nfuncs; i++)
        if (!strcmp(p->funcs[i].name, name)) return (int)p->funcs[i].nargs;
    return -ENOENT;
}
