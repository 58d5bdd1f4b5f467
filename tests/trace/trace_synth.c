/*
 * trace_synth.c -- writes the hand-built example traces of
 * trace_examples.h as files: `trace_synth DIR` makes DIR/basic.trace,
 * pauses, edges, empty and workload.  cli_test.sh runs the tool on them;
 * the same files seed the fuzzing corpus (tools/trace/corpus).
 */
#include <stdio.h>

#include "trace_examples.h"

static int write_example(const char *dir, const char *name, void (*build)(tw *))
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.trace", dir, name);
    tw w;
    build(&w);
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(w.buf, 1, w.len, f) == w.len;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    tw_free(&w);
    if (!ok)
        perror(path);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: trace_synth DIR\n");
        return 2;
    }
    int bad = 0;
    bad |= write_example(argv[1], "basic", example_basic);
    bad |= write_example(argv[1], "pauses", example_pauses);
    bad |= write_example(argv[1], "edges", example_edges);
    bad |= write_example(argv[1], "empty", example_empty);
    bad |= write_example(argv[1], "workload", example_workload);
    return bad;
}
