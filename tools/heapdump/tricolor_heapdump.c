/*
 * tricolor_heapdump.c -- tricolor-heapdump, the command-line reader of heap
 * dumps written by tc_heap_dump (docs/heapdump-format.md):
 *
 *   tricolor-heapdump summary [-n N] DUMP     objects and bytes by type, largest first
 *   tricolor-heapdump path DUMP ADDRESS       a shortest chain of references from a root
 *   tricolor-heapdump diff [-n N] OLD NEW     what grew between two dumps, by type
 *
 * Exit status: 0 success; 1 `path` found no object at ADDRESS, or no path
 * to it; 2 usage error; 3 a dump could not be read or is malformed (the
 * message gives the file offset), or memory ran out.
 *
 * Output is plain text: aligned tables (numbers right-aligned, names left),
 * addresses in hex, sizes in bytes.  Parsing is hd_parse.c, the questions
 * hd_query.c; this file only prints.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dump/heapdump_format.h"
#include "hd_parse.h"
#include "hd_query.h"

#define EXIT_NOTFOUND 1
#define EXIT_USAGE 2
#define EXIT_BADDUMP 3

static const char usage_text[] =
    "usage: tricolor-heapdump summary [-n N] DUMP\n"
    "       tricolor-heapdump path DUMP ADDRESS\n"
    "       tricolor-heapdump diff [-n N] OLD NEW\n"
    "\n"
    "  summary  objects and bytes by type, largest first, with reachability\n"
    "  path     a shortest chain of references from a root to the object at\n"
    "           ADDRESS (hex, any address inside the object): why is it alive?\n"
    "  diff     objects and bytes per type in OLD and NEW, largest growth\n"
    "           first, and the objects NEW has that OLD had not\n"
    "  -n N     print at most N rows per table\n"
    "\n"
    "exit status: 0 ok; 1 path: no such object or no path; 2 usage;\n"
    "3 a dump is unreadable or malformed, or out of memory\n";

static int usage(const char *fmt, ...)
{
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        fputs("tricolor-heapdump: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fputs("tricolor-heapdump: out of memory\n", stderr);
        exit(EXIT_BADDUMP);
    }
    return p;
}

/* ---- Aligned tables ------------------------------------------------------------- */

typedef struct table {
    size_t ncols;
    const char *align;   /* per column: 'l' or 'r' */
    char **cells;        /* row-major */
    size_t ncells, cap;
} table;

static void table_init(table *t, const char *align)
{
    memset(t, 0, sizeof *t);
    t->align = align;
    t->ncols = strlen(align);
}

static void __attribute__((format(printf, 2, 3))) cell(table *t, const char *fmt, ...)
{
    if (t->ncells == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        char **c = realloc(t->cells, t->cap * sizeof *c);
        if (c == NULL) {
            fputs("tricolor-heapdump: out of memory\n", stderr);
            exit(EXIT_BADDUMP);
        }
        t->cells = c;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
    va_end(ap);
    t->cells[t->ncells++] = s;
}

static void table_print(table *t, const char *indent)
{
    size_t w[16] = {0};
    for (size_t i = 0; i < t->ncells; i++) {
        size_t l = strlen(t->cells[i]);
        if (l > w[i % t->ncols])
            w[i % t->ncols] = l;
    }
    size_t linecap = strlen(indent) + 1;
    for (size_t c = 0; c < t->ncols; c++)
        linecap += w[c] + 2;
    char *line = xmalloc(linecap);
    for (size_t row = 0; row + t->ncols <= t->ncells; row += t->ncols) {
        size_t n = (size_t)sprintf(line, "%s", indent);
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[row + c];
            size_t pad = w[c] - strlen(s);
            if (c > 0)
                n += (size_t)sprintf(line + n, "  ");
            if (t->align[c] == 'r')
                n += (size_t)sprintf(line + n, "%*s%s", (int)pad, "", s);
            else
                n += (size_t)sprintf(line + n, "%s%*s", s, (int)pad, "");
        }
        while (n > 0 && line[n - 1] == ' ')
            n--; /* no trailing blanks */
        line[n] = '\0';
        puts(line);
    }
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(line);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* A type name made safe to print: control and non-ASCII bytes as \xNN. */
static const char *printable(const char *s)
{
    static char out[4 * 512 + 1];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 5 < sizeof out; p++) {
        if (*p >= 0x20 && *p < 0x7f && *p != '\\')
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, sizeof out - n, "\\x%02x", *p);
    }
    out[n] = '\0';
    return out;
}

static const char *plural(uint64_t n, const char *one, const char *many) { return n == 1 ? one : many; }

/* "+12", "-3", "0" */
static void signed_cell(table *t, uint64_t newv, uint64_t oldv)
{
    if (newv >= oldv)
        cell(t, newv == oldv ? "%" PRIu64 : "+%" PRIu64, newv - oldv);
    else
        cell(t, "-%" PRIu64, oldv - newv);
}

static const char *signed_str(char *buf, size_t n, uint64_t newv, uint64_t oldv)
{
    if (newv >= oldv)
        snprintf(buf, n, newv == oldv ? "%" PRIu64 : "+%" PRIu64, newv - oldv);
    else
        snprintf(buf, n, "-%" PRIu64, oldv - newv);
    return buf;
}

/* ---- Loading ----------------------------------------------------------------------- */

static int load(const char *path, hd_dump *d)
{
    if (hd_load(path, 0, d) != 0) {
        fprintf(stderr, "tricolor-heapdump: %s\n", d->error);
        return -1;
    }
    return 0;
}

static bool parse_count(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0)
        return false;
    *out = (size_t)v;
    return true;
}

static bool parse_address(const char *s, uint64_t *out)
{
    const char *p = s;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    if (*p == '\0' || strlen(p) > 16)
        return false;
    uint64_t v = 0;
    for (; *p; p++) {
        int c = *p;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

/* ---- summary ------------------------------------------------------------------------- */

static const char *phase_name(uint64_t p)
{
    switch (p) {
    case HD_PHASE_OFF: return "collector idle";
    case HD_PHASE_MARK: return "during a mark phase";
    case HD_PHASE_MARKTERM: return "during mark termination";
    default: return "collector phase unknown";
    }
}

static void print_header(const hd_dump *d)
{
    printf("heap dump format %u", d->version);
    if (d->has_info) {
        time_t secs = (time_t)(d->time_ns / 1000000000u);
        struct tm tm;
        char when[64] = "?";
        if (gmtime_r(&secs, &tm) != NULL)
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf(", pid %" PRIu64 ", taken %s after %" PRIu64 " %s, %s", d->pid, when, d->num_gc,
               plural(d->num_gc, "collection", "collections"), phase_name(d->phase));
    }
    printf("\n");
}

static int cmd_summary(const char *path, size_t limit)
{
    hd_dump d;
    if (load(path, &d) != 0)
        return EXIT_BADDUMP;
    hd_reach r;
    hd_by_type *rows;
    size_t n = hd_by_type_rows(&d, NULL, &rows);
    if (n == HD_NONE || hd_reach_compute(&d, &r) != 0) {
        fputs("tricolor-heapdump: out of memory\n", stderr);
        return EXIT_BADDUMP;
    }
    print_header(&d);
    printf("objects: %zu, %" PRIu64 " bytes, %zu %s\n", d.nobjects, d.total_bytes, n, plural(n, "type", "types"));
    printf("  reachable from the roots:                %" PRIu64 " %s, %" PRIu64 " bytes\n", r.objects[1],
           plural(r.objects[1], "object", "objects"), r.bytes[1]);
    if (r.objects[2] != 0)
        printf("  kept only by finalizable objects:        %" PRIu64 " %s, %" PRIu64 " bytes\n", r.objects[2],
               plural(r.objects[2], "object", "objects"), r.bytes[2]);
    printf("  unreachable (garbage not yet collected): %" PRIu64 " %s, %" PRIu64 " bytes\n", r.objects[0],
           plural(r.objects[0], "object", "objects"), r.bytes[0]);
    size_t kinds[5] = {0}, others = 0, queued = 0;
    for (size_t i = 0; i < d.nroots; i++)
        if (d.roots[i].kind >= HD_ROOT_STACK && d.roots[i].kind <= HD_ROOT_REGISTERED)
            kinds[d.roots[i].kind]++;
        else
            others++;
    for (size_t i = 0; i < d.nfinalizers; i++)
        queued += d.finalizers[i].queued;
    printf("roots: %zu %s, %zu global %s, %zu registered %s", d.nthreads, plural(d.nthreads, "thread", "threads"),
           kinds[HD_ROOT_GLOBAL], plural(kinds[HD_ROOT_GLOBAL], "segment", "segments"), kinds[HD_ROOT_REGISTERED],
           plural(kinds[HD_ROOT_REGISTERED], "range", "ranges"));
    if (others)
        printf(", %zu of other kinds", others);
    printf("; %zu %s, %zu queued; %zu weak %s\n", d.nfinalizers - queued,
           plural(d.nfinalizers - queued, "finalizer", "finalizers"), queued, d.nweaks,
           plural(d.nweaks, "handle", "handles"));
    /* The statistics a reader looks at first, those the dump has. */
    static const char *const key_stats[] = {"heap_alloc", "heap_objects", "heap_inuse", "heap_sys", "next_gc", "num_gc"};
    const char *sep = "stats: ";
    for (size_t i = 0; i < sizeof key_stats / sizeof key_stats[0]; i++)
        for (size_t k = 0; k < d.nstats; k++)
            if (strcmp(d.stats[k].name, key_stats[i]) == 0) {
                printf("%s%s %" PRIu64, sep, key_stats[i], d.stats[k].value);
                sep = ", ";
                break;
            }
    if (sep[0] == ',')
        printf("\n");
    printf("\n");
    table t;
    table_init(&t, "rrrrl");
    cell(&t, "bytes");
    cell(&t, "%%");
    cell(&t, "objects");
    cell(&t, "avg");
    cell(&t, "type");
    for (size_t i = 0; i < n && (limit == 0 || i < limit); i++) {
        cell(&t, "%" PRIu64, rows[i].bytes);
        cell(&t, "%.1f", d.total_bytes ? 100.0 * (double)rows[i].bytes / (double)d.total_bytes : 0.0);
        cell(&t, "%" PRIu64, rows[i].objects);
        cell(&t, "%" PRIu64, (rows[i].bytes + rows[i].objects / 2) / rows[i].objects);
        cell(&t, "%s", printable(rows[i].name));
    }
    table_print(&t, "");
    if (limit != 0 && n > limit)
        printf("(%zu more types)\n", n - limit);
    free(rows);
    hd_reach_free(&r);
    hd_free(&d);
    return 0;
}

/* ---- path ------------------------------------------------------------------------------ */

static const char *root_kind_name(uint64_t kind)
{
    switch (kind) {
    case HD_ROOT_STACK: return "stack";
    case HD_ROOT_REGISTERS: return "registers";
    case HD_ROOT_GLOBAL: return "global data";
    case HD_ROOT_REGISTERED: return "registered root";
    default: return "root";
    }
}

/* What a slot of an object is called on a path line. */
static void slot_cell(table *t, const hd_object *o, const hd_edge *e)
{
    const char *interior = "";
    char buf[64] = "";
    if (e->target_off != 0) {
        snprintf(buf, sizeof buf, " (to +0x%" PRIx64 ")", e->target_off);
        interior = buf;
    }
    if (o->scan == HD_SCAN_FUNCTION)
        cell(t, "pointer #%" PRIu64 " of its scan function%s", e->slot, interior);
    else
        cell(t, "word +0x%" PRIx64 "%s", e->slot, interior);
}

static void object_cells(table *t, const hd_dump *d, const hd_object *o)
{
    cell(t, "0x%" PRIx64, o->addr);
    cell(t, "%s (%" PRIu64 " bytes)", printable(hd_object_type_name(d, o)), o->size);
}

/* The line for how the first object of the chain was reached. */
static void print_seed(const hd_dump *d, const hd_reach *r, size_t first)
{
    size_t ref = r->seed_ref[first];
    const hd_edge *e = r->edge[first] != HD_NONE ? &d->edges[r->edge[first]] : NULL;
    printf("  ");
    switch ((hd_seed_kind)r->seed_kind[first]) {
    case HD_SEED_ROOT: {
        const hd_root *rt = &d->roots[ref];
        if (rt->kind == HD_ROOT_REGISTERS)
            printf("thread %" PRIu64 " register %" PRIu64, rt->owner, e->slot);
        else if (rt->kind == HD_ROOT_STACK)
            printf("thread %" PRIu64 " stack, word at 0x%" PRIx64, rt->owner, rt->lo + e->slot);
        else
            printf("%s 0x%" PRIx64 "..0x%" PRIx64 ", word +0x%" PRIx64 " (at 0x%" PRIx64 ")", root_kind_name(rt->kind),
                   rt->lo, rt->hi, e->slot, rt->lo + e->slot);
        break;
    }
    case HD_SEED_FINALIZER_ARG:
        printf("argument of the finalizer (function 0x%" PRIx64 ") set on 0x%" PRIx64, d->finalizers[ref].fn,
               d->finalizers[ref].obj);
        break;
    case HD_SEED_QUEUED_OBJECT:
        printf("finalizer queue: waiting for its finalizer (function 0x%" PRIx64 ") to run", d->finalizers[ref].fn);
        break;
    case HD_SEED_QUEUED_ARG:
        printf("finalizer queue: argument of the finalizer of 0x%" PRIx64, d->finalizers[ref].obj);
        break;
    case HD_SEED_WEAK_HANDLE:
        printf("weak handle record of 0x%" PRIx64 ", which keeps its handle", d->weaks[ref].obj);
        break;
    case HD_SEED_FINALIZER_REFERENT: {
        const hd_object *f = &d->objects[d->finalizers[ref].obj_index];
        printf("finalizer set on 0x%" PRIx64 " (%s) keeps what it references, word +0x%" PRIx64, f->addr,
               printable(hd_object_type_name(d, f)), e->slot);
        break;
    }
    default:
        printf("root");
        break;
    }
    if (e != NULL && e->target_off != 0)
        printf(" (to +0x%" PRIx64 ")", e->target_off);
    printf("\n");
}

static bool has_finalizer(const hd_dump *d, size_t obj, bool *queued)
{
    for (size_t i = 0; i < d->nfinalizers; i++)
        if (d->finalizers[i].obj_index == obj) {
            *queued = d->finalizers[i].queued;
            return true;
        }
    return false;
}

static int cmd_path(const char *path, const char *addr_s)
{
    uint64_t addr;
    if (!parse_address(addr_s, &addr))
        return usage("not a hex address: %s", addr_s);
    hd_dump d;
    if (load(path, &d) != 0)
        return EXIT_BADDUMP;
    size_t obj = hd_object_find(&d, addr);
    if (obj == HD_NONE) {
        printf("0x%" PRIx64 ": no object of the dump holds this address\n", addr);
        hd_free(&d);
        return EXIT_NOTFOUND;
    }
    const hd_object *o = &d.objects[obj];
    if (o->addr == addr)
        printf("0x%" PRIx64 ": %s, %" PRIu64 " bytes\n", addr, printable(hd_object_type_name(&d, o)), o->size);
    else
        printf("0x%" PRIx64 ": offset +0x%" PRIx64 " of 0x%" PRIx64 ", %s, %" PRIu64 " bytes\n", addr,
               addr - o->addr, o->addr, printable(hd_object_type_name(&d, o)), o->size);
    hd_reach r;
    if (hd_reach_compute(&d, &r) != 0) {
        fputs("tricolor-heapdump: out of memory\n", stderr);
        return EXIT_BADDUMP;
    }
    size_t *chain;
    size_t len = hd_reach_path(&d, &r, obj, &chain);
    int rc = 0;
    if (len == HD_NONE) {
        fputs("tricolor-heapdump: out of memory\n", stderr);
        rc = EXIT_BADDUMP;
    } else if (len == 0) {
        bool queued = false, weak = false;
        bool fin = has_finalizer(&d, obj, &queued);
        for (size_t i = 0; i < d.nweaks; i++)
            weak |= d.weaks[i].obj_index == obj;
        printf("no path from any root: garbage the next collection frees%s\n",
               fin ? " (after running its finalizer)" : weak ? " (its weak handles then read NULL)" : "");
        rc = EXIT_NOTFOUND;
    } else {
        if (r.tier[obj] == 1)
            printf("path from a root, %zu %s:\n", len, plural(len, "reference", "references"));
        else
            printf("no path from a root; kept only because a finalizable object references it, %zu %s:\n", len,
                   plural(len, "reference", "references"));
        print_seed(&d, &r, chain[0]);
        table t;
        table_init(&t, "llll");
        for (size_t i = 0; i < len; i++) {
            const hd_object *ob = &d.objects[chain[i]];
            cell(&t, "->");
            object_cells(&t, &d, ob);
            if (i + 1 < len)
                slot_cell(&t, ob, &d.edges[r.edge[chain[i + 1]]]);
            else
                cell(&t, "%s", "");
        }
        table_print(&t, "  ");
    }
    free(chain);
    hd_reach_free(&r);
    hd_free(&d);
    return rc;
}

/* ---- diff ---------------------------------------------------------------------------------- */

static int cmd_diff(const char *old_path, const char *new_path, size_t limit)
{
    hd_dump a, b;
    if (load(old_path, &a) != 0)
        return EXIT_BADDUMP;
    if (load(new_path, &b) != 0) {
        hd_free(&a);
        return EXIT_BADDUMP;
    }
    hd_diff_row *rows;
    size_t n = hd_diff_rows(&a, &b, &rows);
    uint8_t *fresh = hd_new_objects(&a, &b);
    hd_by_type *nrows = NULL;
    size_t nn = fresh != NULL ? hd_by_type_rows(&b, fresh, &nrows) : HD_NONE;
    if (n == HD_NONE || nn == HD_NONE) {
        fputs("tricolor-heapdump: out of memory\n", stderr);
        return EXIT_BADDUMP;
    }
    char s1[32], s2[32];
    printf("old: %zu %s, %" PRIu64 " bytes (%s)\n", a.nobjects, plural(a.nobjects, "object", "objects"),
           a.total_bytes, old_path);
    printf("new: %zu %s, %" PRIu64 " bytes (%s)\n", b.nobjects, plural(b.nobjects, "object", "objects"),
           b.total_bytes, new_path);
    printf("growth: %s objects, %s bytes\n", signed_str(s1, sizeof s1, b.nobjects, a.nobjects),
           signed_str(s2, sizeof s2, b.total_bytes, a.total_bytes));

    size_t changed = 0;
    for (size_t i = 0; i < n; i++)
        changed += rows[i].old_objects != rows[i].new_objects || rows[i].old_bytes != rows[i].new_bytes;
    printf("\nby type, largest growth first:\n");
    table t;
    table_init(&t, "rrrrrrl");
    const char *head[] = {"delta bytes", "delta objects", "old bytes", "new bytes", "old objects", "new objects", "type"};
    for (size_t i = 0; i < 7; i++)
        cell(&t, "%s", head[i]);
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        const hd_diff_row *r = &rows[i];
        if (r->old_objects == r->new_objects && r->old_bytes == r->new_bytes)
            continue;
        if (limit != 0 && shown == limit)
            break;
        shown++;
        signed_cell(&t, r->new_bytes, r->old_bytes);
        signed_cell(&t, r->new_objects, r->old_objects);
        cell(&t, "%" PRIu64, r->old_bytes);
        cell(&t, "%" PRIu64, r->new_bytes);
        cell(&t, "%" PRIu64, r->old_objects);
        cell(&t, "%" PRIu64, r->new_objects);
        cell(&t, "%s", printable(r->name));
    }
    table_print(&t, "  ");
    if (shown < changed)
        printf("  (%zu more changed types)\n", changed - shown);
    if (n > changed)
        printf("  (%zu %s unchanged)\n", n - changed, plural(n - changed, "type", "types"));

    uint64_t fresh_objects = 0, fresh_bytes = 0;
    for (size_t i = 0; i < nn; i++)
        fresh_objects += nrows[i].objects, fresh_bytes += nrows[i].bytes;
    printf("\nnew objects (none at that address with that size and type in old): %" PRIu64 " %s, %" PRIu64
           " bytes\n",
           fresh_objects, plural(fresh_objects, "object", "objects"), fresh_bytes);
    if (nn != 0) {
        table_init(&t, "rrll");
        cell(&t, "bytes");
        cell(&t, "objects");
        cell(&t, "type");
        cell(&t, "lowest addresses");
        for (size_t i = 0; i < nn && (limit == 0 || i < limit); i++) {
            cell(&t, "%" PRIu64, nrows[i].bytes);
            cell(&t, "%" PRIu64, nrows[i].objects);
            cell(&t, "%s", printable(nrows[i].name));
            char ex[3 * 20 + 8] = "";
            size_t m = 0;
            for (size_t k = 0; k < nrows[i].nexamples; k++)
                m += (size_t)snprintf(ex + m, sizeof ex - m, "%s0x%" PRIx64, k ? " " : "", nrows[i].example[k]);
            if (nrows[i].objects > nrows[i].nexamples)
                snprintf(ex + m, sizeof ex - m, " ...");
            cell(&t, "%s", ex);
        }
        table_print(&t, "  ");
        if (limit != 0 && nn > limit)
            printf("  (%zu more types)\n", nn - limit);
    }
    free(rows);
    free(nrows);
    free(fresh);
    hd_free(&a);
    hd_free(&b);
    return 0;
}

/* ---- main ------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(NULL);
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    /* Operands after the command, with -n N taken out. */
    const char *ops[3];
    size_t nops = 0, limit = 0;
    bool limit_ok = strcmp(cmd, "summary") == 0 || strcmp(cmd, "diff") == 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && limit_ok) {
            if (i + 1 == argc || !parse_count(argv[i + 1], &limit))
                return usage("-n needs a count of rows");
            i++;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage("unknown option %s for %s", argv[i], cmd);
        } else if (nops == 3) {
            return usage("too many operands for %s", cmd);
        } else {
            ops[nops++] = argv[i];
        }
    }
    if (strcmp(cmd, "summary") == 0) {
        if (nops != 1)
            return usage("summary takes one dump");
        return cmd_summary(ops[0], limit);
    }
    if (strcmp(cmd, "path") == 0) {
        if (nops != 2)
            return usage("path takes a dump and an address");
        return cmd_path(ops[0], ops[1]);
    }
    if (strcmp(cmd, "diff") == 0) {
        if (nops != 2)
            return usage("diff takes two dumps, OLD and NEW");
        return cmd_diff(ops[0], ops[1], limit);
    }
    return usage("unknown command %s", cmd);
}
