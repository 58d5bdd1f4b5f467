/*
 * options.c -- parsing the TRICOLOR settings (see options.h).
 *
 * The grammar is `key=value[,key=value]...`; white space is not allowed, so
 * a value can be any run of characters but a comma.  Every key is a row of
 * option_table; an unknown key, a missing '=', an empty or malformed value,
 * or a value out of range is an error naming the key and the value.  Later
 * settings override earlier ones.
 */
#include "options.h"

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tricolor.h"

options_t options;

typedef enum { KIND_INT, KIND_BOOL, KIND_COUNT, KIND_COUNT64, KIND_SIZE, KIND_PATH, KIND_SIGNAL } option_kind;

typedef struct option_row {
    const char *name;
    option_kind kind;
    size_t offset;
    const char *help;
} option_row;

#define ROW(name, kind, field, help) { name, kind, offsetof(options_t, field), help }

static const option_row option_table[] = {
    ROW("gcpercent",   KIND_INT,   gc_percent,     "heap growth target in percent (GOGC); negative: no automatic collection"),
    ROW("memlimit",    KIND_SIZE,  memory_limit,   "soft memory limit, e.g. 512MiB (GOMEMLIMIT); 0: none"),
    ROW("stw",         KIND_BOOL,  stop_the_world, "1: run whole cycles with the world stopped"),
    ROW("markworkers", KIND_COUNT, mark_workers,   "upper bound on parallel mark threads; 0: from the CPUs"),
    ROW("gctrace",     KIND_BOOL,  gctrace,        "1: one line per cycle on stderr"),
    ROW("checkmark",   KIND_BOOL,  checkmark,      "1: verify each mark phase by re-marking with the world stopped"),
    ROW("checkptr",    KIND_BOOL,  checkptr,       "1: check every barriered store (Go's cgocheck=2)"),
    ROW("clobberfree", KIND_BOOL,  clobberfree,    "1: fill freed objects with a poison pattern"),
    ROW("stress",      KIND_COUNT64, stress,       "N: run a cycle every N allocations; 0: off"),
    ROW("trace",       KIND_PATH,  trace,          "FILE: write an execution trace from init to exit"),
    ROW("signal",      KIND_SIGNAL, signal,        "N: the signal that suspends threads that do not reach a safepoint"),
};

static const option_row *option_find(const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof option_table / sizeof option_table[0]; i++)
        if (strlen(option_table[i].name) == len && memcmp(option_table[i].name, key, len) == 0)
            return &option_table[i];
    return NULL;
}

/* A decimal integer of exactly len characters, optional leading '-'. */
static int parse_int(const char *s, size_t len, int64_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno != 0 || *end != 0 || end == buf || buf[0] == '+' || buf[0] == ' ')
        return -1;
    *out = v;
    return 0;
}

int options_parse_size(const char *s, size_t len, int64_t *out)
{
    static const struct { const char *suffix; int64_t mult; } units[] = {
        {"TiB", (int64_t)1 << 40}, {"GiB", (int64_t)1 << 30}, {"MiB", (int64_t)1 << 20},
        {"KiB", (int64_t)1 << 10}, {"TB", 1000000000000LL}, {"GB", 1000000000LL},
        {"MB", 1000000LL}, {"KB", 1000LL}, {"B", 1},
    };
    int64_t mult = 1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t sl = strlen(units[i].suffix);
        if (len > sl && memcmp(s + len - sl, units[i].suffix, sl) == 0) {
            mult = units[i].mult;
            len -= sl;
            break;
        }
    }
    int64_t v;
    if (parse_int(s, len, &v) != 0 || v < 0 || v > INT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

static int fail(char *err, size_t err_len, const char *fmt, const char *a, size_t alen,
                const char *b, size_t blen)
{
    snprintf(err, err_len, fmt, (int)alen, a, (int)blen, b);
    return TC_EINVAL;
}

static int option_set(options_t *o, const option_row *row, const char *v, size_t vlen,
                      char *err, size_t err_len)
{
    void *field = (char *)o + row->offset;
    const char *name = row->name;
    size_t nlen = strlen(name);
    int64_t x;
    switch (row->kind) {
    case KIND_INT:
        if (parse_int(v, vlen, &x) != 0 || x < INT_MIN || x > INT_MAX)
            return fail(err, err_len, "TRICOLOR: %.*s: '%.*s' is not an integer", name, nlen, v, vlen);
        *(int *)field = (int)x;
        return 0;
    case KIND_BOOL:
        if (vlen != 1 || (v[0] != '0' && v[0] != '1'))
            return fail(err, err_len, "TRICOLOR: %.*s: '%.*s' is not 0 or 1", name, nlen, v, vlen);
        *(int *)field = v[0] - '0';
        return 0;
    case KIND_COUNT:
    case KIND_COUNT64:
        if (parse_int(v, vlen, &x) != 0 || x < 0 || (row->kind == KIND_COUNT && x > INT_MAX))
            return fail(err, err_len, "TRICOLOR: %.*s: '%.*s' is not a count (0 or more)", name, nlen, v, vlen);
        if (row->kind == KIND_COUNT64)
            *(int64_t *)field = x;
        else
            *(int *)field = (int)x;
        return 0;
    case KIND_SIGNAL:
        /* Not the ones the program cannot catch or that mean a crash. */
        if (parse_int(v, vlen, &x) != 0 || x < 1 || x > SIGRTMAX || x == SIGKILL || x == SIGSTOP ||
            x == SIGSEGV || x == SIGBUS || x == SIGFPE || x == SIGILL || x == SIGABRT)
            return fail(err, err_len, "TRICOLOR: %.*s: '%.*s' is not a usable signal number", name, nlen, v, vlen);
        *(int *)field = (int)x;
        return 0;
    case KIND_SIZE:
        if (options_parse_size(v, vlen, &x) != 0)
            return fail(err, err_len,
                        "TRICOLOR: %.*s: '%.*s' is not a size (a number of bytes, or with B, KiB, MiB, GiB, TiB)",
                        name, nlen, v, vlen);
        *(int64_t *)field = x;
        return 0;
    case KIND_PATH:
        if (vlen == 0 || vlen >= sizeof o->trace)
            return fail(err, err_len, "TRICOLOR: %.*s: '%.*s' is not a usable file name", name, nlen, v, vlen);
        memcpy(field, v, vlen);
        ((char *)field)[vlen] = 0;
        return 0;
    }
    return TC_EINVAL;
}

int options_parse(options_t *o, const char *text, char *err, size_t err_len)
{
    if (text == NULL)
        return 0;
    const char *p = text;
    while (*p != 0) {
        const char *item = p;
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        p = comma ? comma + 1 : p + len;
        if (len == 0) {
            if (comma == NULL)
                break;
            continue; /* tolerate "a=1,,b=2" and a trailing comma */
        }
        const char *eq = memchr(item, '=', len);
        if (eq == NULL)
            return fail(err, err_len, "TRICOLOR: '%.*s' is not key=value%.*s", item, len, "", 0);
        size_t klen = (size_t)(eq - item);
        const option_row *row = option_find(item, klen);
        if (row == NULL) {
            int n = snprintf(err, err_len, "TRICOLOR: unknown setting '%.*s' (known:", (int)klen, item);
            for (size_t i = 0; i < sizeof option_table / sizeof option_table[0] && n > 0 && (size_t)n < err_len; i++)
                n += snprintf(err + n, err_len - (size_t)n, " %s", option_table[i].name);
            if (n > 0 && (size_t)n < err_len)
                snprintf(err + n, err_len - (size_t)n, ")");
            return TC_EINVAL;
        }
        int rc = option_set(o, row, eq + 1, len - klen - 1, err, err_len);
        if (rc != 0)
            return rc;
    }
    return 0;
}
