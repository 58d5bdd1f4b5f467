/*
 * type_test.c -- types (src/heap/type.c): TC_TYPE builds the right
 * offsets, bad layouts are rejected with NULL, ids map back to types,
 * typed objects report their type, each type's precomputed span class
 * gives tc_new the class tc_alloc would use, and a stray pointer or a copy
 * of a type used as a type aborts with a message.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heap/span.h"
#include "heap/type.h"
#include "test.h"
#include "tricolor.h"

struct node {
    struct node *left;
    long key;
    struct node *right;
    char tag[8];
    void *payload;
};

typedef struct { double x, y; } point;

static void test_tc_type_macro(void)
{
    const tc_type *t = TC_TYPE(struct node, left, right, payload);
    REQUIRE(t != NULL);
    EXPECT_EQ(t->size, sizeof(struct node));
    EXPECT_EQ(t->n_ptrs, 3);
    EXPECT_EQ(t->ptr_offsets[0], offsetof(struct node, left));
    EXPECT_EQ(t->ptr_offsets[1], offsetof(struct node, right));
    EXPECT_EQ(t->ptr_offsets[2], offsetof(struct node, payload));
    EXPECT(strcmp(tc_type_name(t), "struct node") == 0);
    EXPECT(type_by_id(t->id) == t);
    /* Offsets are sorted whatever order the fields are named in. */
    const tc_type *u = TC_TYPE(struct node, payload, left);
    REQUIRE(u != NULL);
    EXPECT_EQ(u->ptr_offsets[0], 0);
    EXPECT_EQ(u->ptr_offsets[1], offsetof(struct node, payload));
    EXPECT(u->id != t->id);
}

static void test_rejects_bad_layouts(void)
{
    EXPECT(tc_type_new("zero", 0, NULL, 0) == NULL);
    EXPECT(tc_type_new("unaligned", 32, (size_t[]){4}, 1) == NULL);
    EXPECT(tc_type_new("outside", 32, (size_t[]){32}, 1) == NULL);
    EXPECT(tc_type_new("straddles", 20, (size_t[]){16}, 1) == NULL);
    EXPECT(tc_type_new("twice", 32, (size_t[]){8, 8}, 2) == NULL);
    EXPECT(tc_type_new("nullofs", 32, NULL, 2) == NULL);
    EXPECT(tc_type_new("toomany", 16, (size_t[]){0, 8, 0}, 3) == NULL);
    EXPECT(tc_type_new("tiny", 4, (size_t[]){0}, 1) == NULL);
    EXPECT(tc_type_new_scan("noscanfn", 16, NULL) == NULL);
    EXPECT(tc_type_new_scan("zero", 0, NULL) == NULL);
    /* Boundary cases that are fine. */
    EXPECT(tc_type_new("lastword", 24, (size_t[]){16}, 1) != NULL);
    EXPECT(tc_type_new("plain", 24, NULL, 0) != NULL);
    EXPECT(tc_type_new(NULL, 8, (size_t[]){0}, 1) != NULL);
}

static void test_many_offsets(void)
{
    size_t n = 131072; /* a 1 MiB all-pointer type */
    size_t *offs = malloc(n * sizeof *offs);
    REQUIRE(offs != NULL);
    for (size_t i = 0; i < n; i++)
        offs[i] = (n - 1 - i) * 8; /* descending: sorting has work to do */
    const tc_type *t = tc_type_new("big", n * 8, offs, n);
    REQUIRE(t != NULL);
    EXPECT_EQ(t->ptr_offsets[0], 0);
    EXPECT_EQ(t->ptr_offsets[n - 1], (n - 1) * 8);
    offs[n / 2] = offs[n / 3]; /* a duplicate far apart */
    EXPECT(tc_type_new("bigdup", n * 8, offs, n) == NULL);
    free(offs);
}

static void scan_tagged(const void *obj, size_t size, void (*mark)(const void *, void *), void *ctx)
{
    (void)obj; (void)size; (void)mark; (void)ctx;
}

static void test_typed_objects(void)
{
    const tc_type *t = TC_TYPE(struct node, left, right);
    const tc_type *pt = tc_type_new("point", sizeof(point), NULL, 0);
    const tc_type *st = tc_type_new_scan("tagged", 40, scan_tagged);
    REQUIRE(t && pt && st);
    struct node *n = tc_new(t);
    point *p = tc_new(pt);
    void *s = tc_new(st);
    void *big = tc_new_array(t, 4096); /* large object */
    void *raw = tc_alloc(48);
    REQUIRE(n && p && s && big && raw);
    EXPECT(tc_type_of(n) == t);
    EXPECT(tc_type_of(&n->right) == t);
    EXPECT(tc_type_of(p) == pt);
    EXPECT(tc_type_of(s) == st);
    EXPECT(tc_type_of((char *)big + 100000) == t);
    EXPECT(tc_type_of(raw) == NULL);
    EXPECT(tc_type_of(tc_alloc_noscan(48)) == NULL);
}

/* tc_new takes the span class from the type: the same size class as
 * tc_alloc of that size, noscan exactly when the type has no pointers and
 * no scan function, and large types (class 0) through the large path. */
static void test_type_span_class(void)
{
    static const size_t sizes[] = {1, 8, 9, 16, 17, 48, 100, 1024, 1025, 5000, 32768, 32769, 100000};
    static const size_t off0[] = {0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t sz = sizes[i];
        for (int withptr = 0; withptr < 2; withptr++) {
            if (withptr && sz < sizeof(void *))
                continue;
            const tc_type *t = tc_type_new("sized", sz, withptr ? off0 : NULL, (size_t)withptr);
            REQUIRE(t != NULL);
            void *p = tc_new(t), *q = tc_alloc(sz);
            REQUIRE(p != NULL && q != NULL);
            span *sp = span_of_heap((uintptr_t)p), *sq = span_of_heap((uintptr_t)q);
            REQUIRE(sp != NULL && sq != NULL);
            EXPECT_EQ(tc_size(p), tc_size(q));
            EXPECT_EQ(spanclass_sizeclass(sp->spanclass), spanclass_sizeclass(sq->spanclass));
            EXPECT_EQ(span_is_noscan(sp), !withptr);
            EXPECT(tc_type_of(p) == t);
            EXPECT_EQ(t->spanclass, sz <= MAX_SMALL_SIZE ? sp->spanclass : 0);
        }
    }
}

static void test_stray_type_aborts(void)
{
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        static long fake[8] = {1, 2, 3};
        (void)!freopen("/dev/null", "w", stderr);
        tc_new((const tc_type *)fake);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    pid = fork();
    if (pid == 0) {
        (void)!freopen("/dev/null", "w", stderr);
        tc_new(NULL);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    /* A copy of a real type: right magic and id, but not the type. */
    const tc_type *t = TC_TYPE(struct node, left, right);
    REQUIRE(t != NULL);
    pid = fork();
    if (pid == 0) {
        static tc_type copy;
        memcpy(&copy, t, sizeof copy);
        (void)!freopen("/dev/null", "w", stderr);
        tc_new(&copy);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int main(void)
{
    REQUIRE(tc_init(&(tc_options){.gc_percent = -1}) == 0); /* the allocator alone */
    RUN(test_tc_type_macro);
    RUN(test_rejects_bad_layouts);
    RUN(test_many_offsets);
    RUN(test_typed_objects);
    RUN(test_type_span_class);
    RUN(test_stray_type_aborts);
    tc_shutdown();
    TEST_MAIN_END();
}
