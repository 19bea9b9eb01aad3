/* conc_bound_print: the report as an aligned table for people, or one JSON object for programs.
 *
 * The JSON must parse whatever the command line held, so strings are escaped fully: quotes,
 * backslashes and control characters, and bytes that are not valid UTF-8 (an argument may be any
 * bytes) become U+FFFD. Numbers that are not finite are written as 0: JSON has no NaN. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "conc/bound.h"

static const char *verdict_key(conc_bound_verdict_t v) {
    switch (v) {
    case CONC_BOUND_CPU: return "cpu";
    case CONC_BOUND_IO: return "io";
    case CONC_BOUND_MIXED: return "mixed";
    }
    return "unknown";
}

static double num(double x) {
    return isfinite(x) ? x : 0;
}

static void format_bytes(char *buf, size_t size, uint64_t n) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n < 1024) {
        snprintf(buf, size, "%llu B", (unsigned long long)n);
        return;
    }
    double x = (double)n / 1024;
    size_t u = 0;
    while (x >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        x /= 1024;
        u++;
    }
    snprintf(buf, size, "%.1f %s", x, units[u]);
}

/* Length of the valid UTF-8 sequence at p, 0 if it is not one (overlong, surrogate, cut short). */
static size_t utf8_len(const unsigned char *p) {
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
    if (!n || p[0] > 0xf4) return 0;
    static const unsigned lead_bits[] = {0, 0, 0x1f, 0x0f, 0x07};
    static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000}; /* shorter forms are overlong */
    unsigned cp = p[0] & lead_bits[n];
    for (size_t i = 1; i < n; i++) { /* stops at the NUL: it is not a continuation byte */
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

static void json_string(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned c = *p;
        size_t n = 1;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else if (c < 0x80) {
            fputc((int)c, f);
        } else if ((n = utf8_len(p)) > 0) {
            fwrite(p, 1, n, f);
        } else {
            fputs("\\ufffd", f);
            n = 1;
        }
        p += n;
    }
    fputc('"', f);
}

static void print_json(FILE *f, const conc_bound_report_t *r) {
    fputs("{\"command\": ", f);
    if (!r->command[0])
        fputs("null", f);
    else
        json_string(f, r->command);
    fprintf(f,
            ", \"exit_status\": %d, \"signal\": %d, \"wall\": %.6f, \"user\": %.6f, \"sys\": %.6f, "
            "\"utilisation\": %.4f, \"parallelism\": %.1f, \"cpu_wait\": %.6f, "
            "\"peak_threads\": %u, \"voluntary_switches\": %llu, \"involuntary_switches\": %llu, "
            "\"bytes_read\": %llu, \"bytes_written\": %llu, \"verdict\": \"%s\", \"reason\": ",
            r->exit_status, r->exit_status < 0 ? -r->exit_status : 0, num(r->wall), num(r->user),
            num(r->sys), num(r->utilisation), num(r->utilisation), num(r->cpu_wait),
            r->peak_threads, (unsigned long long)r->voluntary_switches,
            (unsigned long long)r->involuntary_switches, (unsigned long long)r->bytes_read,
            (unsigned long long)r->bytes_written, verdict_key(r->verdict));
    json_string(f, r->reason);
    fputs("}\n", f);
}

static void print_table(FILE *f, const conc_bound_report_t *r) {
    if (r->command[0]) {
        fputs("command        ", f);
        for (const char *p = r->command; *p; p++) /* keep the table one row per line */
            fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, f);
        fputc('\n', f);
        if (r->exit_status < 0)
            fprintf(f, "exit           killed by signal %d\n", -r->exit_status);
        else
            fprintf(f, "exit           status %d\n", r->exit_status);
    }
    char rd[32], wr[32];
    format_bytes(rd, sizeof rd, r->bytes_read);
    format_bytes(wr, sizeof wr, r->bytes_written);
    const char *name =
        r->verdict == CONC_BOUND_IO ? "IO/wait-bound" : conc_bound_verdict_name(r->verdict);
    fprintf(f,
            "wall           %.3f s\n"
            "user / sys     %.3f s / %.3f s\n"
            "utilisation    %.0f%% (parallelism %.1f)\n"
            "CPU wait       %.3f s runnable, waiting for a free core\n"
            "peak threads   %u\n"
            "switches       %llu voluntary, %llu involuntary\n"
            "bytes read     %s   written %s\n"
            "verdict        %s: %s\n",
            num(r->wall), num(r->user), num(r->sys), num(r->utilisation) * 100, num(r->utilisation),
            num(r->cpu_wait), r->peak_threads, (unsigned long long)r->voluntary_switches,
            (unsigned long long)r->involuntary_switches, rd, wr, name, r->reason);
}

void conc_bound_print(FILE *out, const conc_bound_report_t *r, int json) {
    if (json)
        print_json(out, r);
    else
        print_table(out, r);
}
