/*
 * symbols_test.c -- linking: a program that defines functions and globals
 * with the same names as tricolor's internals links against the library
 * (static and shared) and both its own and tricolor's versions work.  Only
 * tc_ names may be visible to the program.
 */
#include <string.h>

#include "test.h"
#include "tricolor.h"

/* Names that tricolor uses internally. */
int span_alloc(int x) { return x + 1; }
int heap_init(void) { return 41; }
void *persistent_alloc(size_t a, size_t b, int c) { (void)a; (void)b; (void)c; return NULL; }
int options = 7;
int heap = 3;
int central[4] = {1, 2, 3, 4};
void throw(const char *msg) { (void)msg; }
int arena_of(int x) { return x * 2; }

static void test_own_names_and_library(void)
{
    EXPECT_EQ(span_alloc(1), 2);
    EXPECT_EQ(heap_init(), 41);
    EXPECT_EQ(options, 7);
    EXPECT_EQ(heap, 3);
    EXPECT_EQ(central[3], 4);
    EXPECT_EQ(arena_of(4), 8);
    REQUIRE(tc_init(NULL) == 0);
    void *p = tc_alloc(100);
    REQUIRE(p != NULL);
    EXPECT(tc_base((char *)p + 50) == p);
    EXPECT_EQ(heap, 3); /* tricolor's own heap did not land on ours */
    EXPECT_EQ(options, 7);
    tc_shutdown();
}

int main(void)
{
    RUN(test_own_names_and_library);
    TEST_MAIN_END();
}
