/*
 * mark_test.c -- greying objects (src/gc/mark.c): mark_pointer and its
 * batch form mark_pointers, which flushes write-barrier buffers.
 *
 * Both are checked against an oracle (tc_base): a word greys the object
 * tc_base finds for it, and nothing else.  The words cover every case the
 * lookup distinguishes: NULL and small integers, foreign pointers (malloc,
 * the stack), base and interior pointers and the last byte of objects of
 * several size classes, noscan, untyped and large objects, the waste past
 * the last object of a span, and free slots of a span.
 *
 *  - test_mark_pointer: one word at a time; each object greyed is queued
 *    once unless it is noscan, and marking it again queues nothing.
 *  - test_mark_pointers_runs: words in runs that stay in one span, the
 *    pattern the batch's span memo serves: same result as the oracle.
 *  - test_mark_pointers_scattered: the same words shuffled, so the streams'
 *    memos miss all the time and spans collide in the table of memos.
 *  - test_mark_pointers_odd_lengths: buffers of 0, 1 and odd lengths, below
 *    and above the length at which the batch starts its table of memos.
 *  - test_scan_type: the type the collector finds for an object (the
 *    span's sole type while it has one, else its slot's entry) is the type
 *    it was allocated with, whatever the order in which untyped objects and
 *    objects of two types share spans, before and after a cycle frees and
 *    reuses slots; spans of one type keep no per-slot array.
 *
 * The collector is off (gc_percent = -1); the tests set the phase to
 * marking themselves and clear the mark bits between runs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gc/mark.h"
#include "gc/workbuf.h"
#include "heap/span.h"
#include "heap/type.h"
#include "test.h"
#include "tricolor.h"
#include "util.h"

#define MAX_OBJS 4096
#define MAX_WORDS 20000

struct pair {
    void *a, *b;
    uint64_t pad[2];
};

static void *objs[MAX_OBJS]; /* every object the tests made (a registered root) */
static size_t n_objs;
static uintptr_t words[MAX_WORDS];
static size_t n_words;
static char *foreign;

static void add_obj(void *p)
{
    REQUIRE(p != NULL && n_objs < MAX_OBJS);
    objs[n_objs++] = p;
}

static void add_word(uintptr_t w)
{
    REQUIRE(n_words < MAX_WORDS);
    words[n_words++] = w;
}

static void build_heap(void)
{
    const tc_type *pair_type = TC_TYPE(struct pair, a, b);
    for (int i = 0; i < 600; i++)
        add_obj(tc_new(pair_type));       /* 32-byte typed objects: several spans */
    for (int i = 0; i < 200; i++)
        add_obj(tc_alloc(48));            /* untyped: scanned conservatively */
    for (int i = 0; i < 200; i++)
        add_obj(tc_alloc_noscan(112));    /* noscan: black at once */
    for (int i = 0; i < 30; i++)
        add_obj(tc_alloc(3072));          /* a class whose spans end in waste */
    for (int i = 0; i < 4; i++)
        add_obj(tc_alloc(100 * 1024));    /* large */
    for (int i = 0; i < 2; i++)
        add_obj(tc_alloc_noscan(300 * 1024));
    REQUIRE(tc_root_add(objs, sizeof objs) == 0);
    foreign = malloc(4096);
    REQUIRE(foreign != NULL);
}

/* Words for every object (base, interior, last byte) and the non-objects. */
static void build_words(void)
{
    int on_stack = 0;
    n_words = 0;
    for (size_t i = 0; i < n_objs; i++) {
        uintptr_t b = (uintptr_t)objs[i];
        size_t sz = tc_size(objs[i]);
        add_word(b);
        add_word(b + sz / 2);
        add_word(b + sz - 1);
    }
    add_word(0);
    add_word(1);
    add_word(4095);
    add_word(4096);
    add_word((uintptr_t)foreign);
    add_word((uintptr_t)&on_stack);
    add_word(UINTPTR_MAX - 7);
    add_word((uintptr_t)1 << 47);
    /* The waste past the last object of a 3072-byte span, and the free
     * slots after the last objects allocated in each span. */
    for (size_t i = 0; i < n_objs; i++) {
        span *s = span_of((uintptr_t)objs[i]);
        REQUIRE(s != NULL);
        uintptr_t end = s->start + s->npages * 8192;
        if (s->limit < end) {
            add_word(s->limit);
            add_word(end - 1);
        }
        uintptr_t next = (uintptr_t)objs[i] + s->elemsize;
        if (next < s->limit && tc_base((void *)next) == NULL)
            add_word(next + 8);
    }
}

static void clear_marks(void)
{
    for (size_t i = 0; i < n_objs; i++) {
        span *s = span_of((uintptr_t)objs[i]);
        memset(s->mark_bits, 0, ((size_t)s->nelems + 63) / 64 * sizeof(uint64_t));
    }
}

static int is_marked(void *obj)
{
    span *s = span_of((uintptr_t)obj);
    size_t idx = span_is_large(s) ? 0 : span_object_index(s, (uintptr_t)obj);
    return span_is_marked(s, idx);
}

static int cmp_uintptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* After greying words[0..n) into gw: exactly the oracle's objects are
 * marked, and exactly its scannable ones were queued, once each. */
static void check_against_oracle(const uintptr_t *w, size_t n, gcwork *gw)
{
    static uintptr_t expect[MAX_WORDS], got[MAX_WORDS];
    size_t n_expect = 0, n_got = 0;
    char *wanted = calloc(n_objs, 1);
    REQUIRE(wanted != NULL);
    for (size_t i = 0; i < n; i++) {
        void *base = tc_base((void *)w[i]);
        if (base == NULL)
            continue;
        for (size_t k = 0; k < n_objs; k++)
            if (objs[k] == base && !wanted[k]) {
                wanted[k] = 1;
                span *s = span_of((uintptr_t)base);
                if (!span_is_noscan(s))
                    expect[n_expect++] = (uintptr_t)base;
            }
    }
    for (size_t k = 0; k < n_objs; k++)
        if (is_marked(objs[k]) != wanted[k]) {
            T_FAIL("object %p (%zu bytes) %s", objs[k], tc_size(objs[k]),
                   wanted[k] ? "should be marked but is not" : "is marked but no word points to it");
            break;
        }
    uintptr_t o;
    while ((o = gcwork_get(gw)) != 0) {
        REQUIRE(n_got < MAX_WORDS);
        got[n_got++] = o;
    }
    qsort(expect, n_expect, sizeof *expect, cmp_uintptr);
    qsort(got, n_got, sizeof *got, cmp_uintptr);
    EXPECT_EQ(n_got, n_expect);
    if (n_got == n_expect)
        EXPECT(memcmp(got, expect, n_got * sizeof *got) == 0);
    free(wanted);
}

static void marking(int on)
{
    atomic_store(&gc_phase_now, on ? GC_MARK : GC_OFF);
}

static void test_mark_pointer(void)
{
    gcwork gw = {0};
    clear_marks();
    marking(1);
    size_t heap_words = 0;
    for (size_t i = 0; i < n_words; i++)
        heap_words += mark_pointer(words[i], &gw) == (tc_base((void *)words[i]) != NULL);
    EXPECT_EQ(heap_words, n_words); /* true exactly for heap pointers */
    check_against_oracle(words, n_words, &gw);
    /* Everything is marked now: a second pass queues nothing. */
    for (size_t i = 0; i < n_words; i++)
        mark_pointer(words[i], &gw);
    EXPECT_EQ(gcwork_get(&gw), 0);
    marking(0);
    gcwork_dispose(&gw);
}

static void run_batch(const uintptr_t *w, size_t n)
{
    gcwork gw = {0};
    clear_marks();
    marking(1);
    mark_pointers((void *const *)w, n, &gw);
    check_against_oracle(w, n, &gw);
    mark_pointers((void *const *)w, n, &gw); /* all marked: nothing more */
    EXPECT_EQ(gcwork_get(&gw), 0);
    marking(0);
    gcwork_dispose(&gw);
}

static void test_mark_pointers_runs(void)
{
    run_batch(words, n_words); /* built object by object: long runs per span */
}

static void test_mark_pointers_scattered(void)
{
    static uintptr_t shuffled[MAX_WORDS];
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 5; round++) {
        memcpy(shuffled, words, n_words * sizeof *words);
        for (size_t i = n_words - 1; i > 0; i--) {
            size_t j = (size_t)(rnd(&seed) % (i + 1));
            uintptr_t t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        run_batch(shuffled, n_words);
        /* Half the words: some objects stay unmarked. */
        run_batch(shuffled, n_words / 2);
    }
}

static void test_mark_pointers_odd_lengths(void)
{
    run_batch(words, 0);
    run_batch(words, 1);
    run_batch(words + 1, 1);
    run_batch(words, 7);
    run_batch(words + n_words - 9, 9); /* the tail: waste and free slots */
    run_batch(words, 33);                /* the first length that uses the memo table */
    run_batch(words + n_words - 101, 101);
}

struct left {
    void *p;
    void *pad;
};
struct right {
    void *pad;
    void *p;
};

#define MIX_OBJS 6000
static void *mix[MIX_OBJS]; /* registered root */
static const tc_type *mix_type[MIX_OBJS];

static void *mix_new(size_t i, const tc_type *t)
{
    mix_type[i] = t;
    return t != NULL ? tc_new(t) : tc_alloc(16);
}

/* Every object of mix: the collector's type (span_type_id, the same as
 * tc_type_of) is the type it was made with. */
static size_t check_scan_types(size_t *sole_spans)
{
    size_t bad = 0;
    *sole_spans = 0;
    for (size_t i = 0; i < MIX_OBJS; i++) {
        if (mix[i] == NULL)
            continue;
        span *s = span_of_heap((uintptr_t)mix[i]);
        REQUIRE(s != NULL);
        size_t idx = span_object_index(s, (uintptr_t)mix[i]);
        if (type_by_id(span_type_id(s, idx)) != mix_type[i] || tc_type_of(mix[i]) != mix_type[i])
            bad++;
        if (!atomic_load(&s->types_mixed) && atomic_load(&s->sole_type_id) != 0) {
            ++*sole_spans;
            if (s->type_ids != NULL)
                bad++; /* a sole-type span has no array */
        }
    }
    return bad;
}

static void test_scan_type(void)
{
    const tc_type *lt = TC_TYPE(struct left, p), *rt = TC_TYPE(struct right, p);
    REQUIRE(tc_root_add(mix, sizeof mix) == 0);
    size_t n = 0;
    /* Untyped objects, then one type filling the rest of their span. */
    for (size_t k = 1; k <= 4; k++) {
        for (size_t j = 0; j < 13 * k; j++, n++)
            mix[n] = mix_new(n, NULL);
        for (size_t j = 0; j < 600; j++, n++)
            mix[n] = mix_new(n, lt);
    }
    /* Runs of each kind, long and short, so that spans of the 16-byte
     * class begin with each kind and switch at every boundary. */
    unsigned seed = 12345;
    while (n < MIX_OBJS) {
        unsigned kind = (seed = seed * 1103515245u + 12345u) >> 16;
        size_t run = kind % 7 == 0 ? 700 : 1 + kind % 40;
        for (size_t j = 0; j < run && n < MIX_OBJS; j++, n++)
            mix[n] = mix_new(n, kind % 3 == 0 ? NULL : kind % 3 == 1 ? lt : rt);
    }
    size_t sole;
    EXPECT_EQ(check_scan_types(&sole), 0);
    EXPECT(sole > 0); /* the runs of 600 and 700 fill spans of one type */
    /* Free every other object, collect, and fill the holes with the other
     * kinds. */
    for (size_t i = 0; i < MIX_OBJS; i += 2)
        mix[i] = NULL;
    tc_collect();
    for (size_t i = 0; i < MIX_OBJS; i += 2)
        mix[i] = mix_new(i, i % 3 == 0 ? rt : i % 3 == 1 ? NULL : lt);
    EXPECT_EQ(check_scan_types(&sole), 0);
    /* Everything dropped: a span emptied by a cycle takes a new sole type. */
    memset(mix, 0, sizeof mix);
    tc_collect();
    for (size_t i = 0; i < 2000; i++)
        mix[i] = mix_new(i, rt);
    EXPECT_EQ(check_scan_types(&sole), 0);
    EXPECT(sole > 0);
    memset(mix, 0, sizeof mix);
    tc_root_remove(mix);
}

int main(void)
{
    tc_options opts = {.gc_percent = -1, .mark_workers = 1};
    REQUIRE(tc_init(&opts) == 0);
    build_heap();
    build_words();
    RUN(test_mark_pointer);
    RUN(test_mark_pointers_runs);
    RUN(test_mark_pointers_scattered);
    RUN(test_mark_pointers_odd_lengths);
    clear_marks();
    RUN(test_scan_type);
    tc_root_remove(objs);
    free(foreign);
    tc_shutdown();
    TEST_MAIN_END();
}
