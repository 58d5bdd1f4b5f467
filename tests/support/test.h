/*
 * test.h -- the tests' tiny harness.
 *
 * A test file is a program: TEST(name) { ... } functions registered with
 * RUN(name) from main, CHECK_* macros that report file:line and fail the
 * test (the program exits non-zero at the end), and TEST_MAIN_END which
 * prints the counts.  tests/run.sh runs every such program.
 */
#ifndef TC_TEST_H
#define TC_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* SANITIZED: 1 in AddressSanitizer and ThreadSanitizer builds (gcc or
 * clang), where tests give timing-sensitive bounds more room. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static int test_failures;
static int test_checks;
static const char *test_current = "";

#define T_FAIL(fmt, ...)                                                              \
    do {                                                                              \
        fprintf(stderr, "FAIL %s: %s:%d: " fmt "\n", test_current, __FILE__, __LINE__, \
                __VA_ARGS__);                                                         \
        test_failures++;                                                              \
    } while (0)

#define EXPECT(cond)                                                                  \
    do {                                                                              \
        test_checks++;                                                                \
        if (!(cond))                                                                  \
            T_FAIL("%s", #cond);                                                      \
    } while (0)

#define EXPECT_EQ(a, b)                                                               \
    do {                                                                              \
        test_checks++;                                                                \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
        if (a_ != b_)                                                                 \
            T_FAIL("%s == %s (%llu != %llu)", #a, #b, a_, b_);                        \
    } while (0)

/* Stops the test program at once: for preconditions the rest depends on. */
#define REQUIRE(cond)                                                                 \
    do {                                                                              \
        test_checks++;                                                                \
        if (!(cond)) {                                                                \
            T_FAIL("required: %s", #cond);                                            \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

#define RUN(fn)                                                                       \
    do {                                                                              \
        test_current = #fn;                                                           \
        int before_ = test_failures;                                                  \
        fn();                                                                         \
        fprintf(stderr, "  %s %s\n", test_failures == before_ ? "ok  " : "FAIL", #fn); \
    } while (0)

/* Whether n bytes at p are all zero. */
static inline int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

#define TEST_MAIN_END()                                                               \
    do {                                                                              \
        fprintf(stderr, "  %d checks, %d failed\n", test_checks, test_failures);      \
        return test_failures == 0 ? 0 : 1;                                            \
    } while (0)

#endif
