/*
 * tr_fuzz.c -- the libFuzzer target: any bytes through tr_parse, and when
 * they parse, through tr_analyze and every command (output to
 * /dev/null), checking the analysis' invariants (tr_analyze.c) on the way.
 * A broken invariant aborts, which the fuzzer reports like a crash.
 *
 * `make fuzz-trace` builds it with clang -fsanitize=fuzzer,address and
 * runs it from tools/trace/corpus.  tests/trace/trace_corpus_test.c calls
 * the same entry point with every corpus file and mutations of each, with
 * any compiler, so the corpus is a regression test in `make test`.
 */
#include <stdlib.h>

#include "tr_analyze.h"
#include "tr_commands.h"
#include "tr_mmu.h"
#include "tr_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)         \
    do {                    \
        if (!(cond))        \
            abort();        \
    } while (0)

static void check_analysis(const tr_trace *t, const tr_analysis *a)
{
    size_t stw = 0;
    for (size_t i = 0; i < a->nspans; i++) {
        const tr_span *s = &a->spans[i];
        CHECK(s->start <= s->end && s->end <= t->end);
        CHECK(s->kind < TR_SPAN_KINDS);
        CHECK(s->thread < t->nthreads && s->end_thread < t->nthreads);
        CHECK(s->name < t->nstrings);
        CHECK(s->cycle == TR_NONE || s->cycle < a->ncycles);
        if (i > 0)
            CHECK(a->spans[i - 1].start <= s->start);
        if (s->kind == TR_SPAN_PHASE && s->cycle != TR_NONE)
            CHECK(s->start >= a->cycles[s->cycle].start && s->end <= a->cycles[s->cycle].end);
        stw += s->kind == TR_SPAN_STW;
    }
    CHECK(stw == a->npauses);
    for (size_t i = 1; i < a->npauses; i++)
        CHECK(a->pauses[i - 1] <= a->pauses[i]);
    for (size_t i = 1; i < a->ncycles; i++)
        CHECK(a->cycles[i - 1].end <= a->cycles[i].start);
    CHECK(a->ncomplete <= a->ncycles && a->ntasks_ended <= a->ntasks);
}

static void check_mmu(const tr_analysis *a)
{
    tr_util u;
    CHECK(tr_util_build(a, tr_default_procs(a), &u) == 0);
    double mean = tr_util_mean(&u), prev = 0;
    CHECK(mean >= 0 && mean <= 1.0000001);
    /* A window of 2w holds two of w: the MMU never falls as windows double. */
    for (uint64_t w = 1; w <= u.end / 2 && w < UINT64_MAX / 4; w *= 2) {
        double m = tr_mmu(&u, w);
        CHECK(m >= 0 && m <= 1.0000001);
        CHECK(m + 1e-9 >= prev);
        prev = m;
    }
    tr_util_free(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
        abort();
    tr_trace t;
    tr_error err;
    if (tr_parse(data, size, &t, &err) < 0) {
        CHECK(err.offset <= size && err.msg[0] != '\0');
        tr_free(&t);
        return 0;
    }
    tr_analysis a;
    if (tr_analyze(&t, &a) == 0) {
        check_analysis(&t, &a);
        check_mmu(&a);
        tr_opts o = {.path = "fuzz", .verbose = true};
        CHECK(tr_cmd_summary(sink, &a, &o) == 0);
        CHECK(tr_cmd_json(sink, &a, &o) == 0);
        o.procs = 3;
        CHECK(tr_cmd_html(sink, &a, &o) == 0);
        CHECK(tr_cmd_events(sink, &a, &o) == 0);
        tr_analysis_free(&a);
    }
    tr_free(&t);
    return 0;
}
