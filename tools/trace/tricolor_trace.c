/*
 * tricolor_trace.c -- the `tricolor-trace` command: reads an execution
 * trace (docs/trace-format.md) and prints a summary, Chrome Trace Event
 * JSON or an HTML report.  tools/trace/README.md describes the figures.
 *
 * Exit status: 0 done, 1 the trace could not be read (the message names
 * the byte offset), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_analyze.h"
#include "tr_commands.h"
#include "tr_parse.h"

static const char usage[] =
    "usage: tricolor-trace COMMAND [options] FILE\n"
    "\n"
    "commands:\n"
    "  summary   cycles, pause percentiles, MMU, GC CPU share, per-thread times\n"
    "  json      Chrome Trace Event JSON for Perfetto or chrome://tracing\n"
    "  html      a self-contained HTML page with heap, pause and MMU charts\n"
    "  events    every event, one line each, in time order (with its file offset)\n"
    "\n"
    "options:\n"
    "  -v        summary: add the per-cycle table\n"
    "  -p N      processors for utilization and MMU (default: the mutator threads)\n"
    "  -o OUT    write to OUT instead of standard output\n"
    "\n"
    "FILE may be - for standard input.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("tricolor-trace: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    fputs(usage, stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "no command");
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    int (*run)(FILE *, const tr_analysis *, const tr_opts *);
    if (strcmp(cmd, "summary") == 0)
        run = tr_cmd_summary;
    else if (strcmp(cmd, "json") == 0)
        run = tr_cmd_json;
    else if (strcmp(cmd, "html") == 0)
        run = tr_cmd_html;
    else if (strcmp(cmd, "events") == 0)
        run = tr_cmd_events;
    else
        return usage_error("unknown command '%s'", cmd);

    tr_opts o = {0};
    const char *outpath = NULL;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-v") == 0) {
            o.verbose = true;
        } else if (strcmp(arg, "-p") == 0 || strcmp(arg, "-o") == 0) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", arg);
            const char *val = argv[++i];
            if (arg[1] == 'o') {
                outpath = val;
                continue;
            }
            char *end;
            errno = 0;
            unsigned long n = strtoul(val, &end, 10);
            if (errno != 0 || *end != '\0' || n == 0 || n > 1u << 20 || val[0] == '-')
                return usage_error("-p wants a processor count from 1 to 1048576, not '%s'", val);
            o.procs = (unsigned)n;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return usage_error("unknown option '%s'", arg);
        } else if (o.path == NULL) {
            o.path = arg;
        } else {
            return usage_error("one trace file at a time ('%s' is one too many)", arg);
        }
    }
    if (o.path == NULL)
        return usage_error("%s", "no trace file given");

    uint8_t *data;
    size_t size;
    tr_error err;
    if (tr_read_file(o.path, &data, &size, &err) < 0) {
        fprintf(stderr, "tricolor-trace: %s: %s\n", o.path, err.msg);
        return 1;
    }
    tr_trace t;
    if (tr_parse(data, size, &t, &err) < 0) {
        fprintf(stderr, "tricolor-trace: %s: offset %llu: %s\n", o.path, (unsigned long long)err.offset, err.msg);
        free(data);
        return 1;
    }
    int rc = 1;
    tr_analysis a;
    if (tr_analyze(&t, &a) < 0) {
        fprintf(stderr, "tricolor-trace: %s: out of memory\n", o.path);
        goto out;
    }
    FILE *out = outpath ? fopen(outpath, "w") : stdout;
    if (out == NULL) {
        fprintf(stderr, "tricolor-trace: %s: %s\n", outpath, strerror(errno));
    } else {
        rc = run(out, &a, &o) < 0 ? 1 : 0;
        if (fflush(out) != 0 || ferror(out))
            rc = 1;
        if (outpath != NULL && fclose(out) != 0)
            rc = 1;
        if (rc != 0)
            fprintf(stderr, "tricolor-trace: %s: cannot write the output\n", outpath ? outpath : "stdout");
    }
    tr_analysis_free(&a);
out:
    tr_free(&t);
    free(data);
    return rc;
}
