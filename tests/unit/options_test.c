/*
 * options_test.c -- the TRICOLOR settings parser (src/base/options.c):
 * every key parses, sizes take units, later settings win, and every bad
 * input is rejected with a message naming the key or value.  Also
 * tc_init's handling of a malformed TRICOLOR.
 */
#include <stdlib.h>
#include <string.h>

#include "base/options.h"
#include "test.h"
#include "tricolor.h"

static int parse(options_t *o, const char *s, char *err)
{
    memset(o, 0, sizeof *o);
    o->gc_percent = 100;
    err[0] = 0;
    return options_parse(o, s, err, 256);
}

static void test_every_key(void)
{
    options_t o;
    char err[256];
    EXPECT_EQ(parse(&o, "gcpercent=50,memlimit=512MiB,stw=1,markworkers=3,gctrace=1,checkmark=1,"
                        "checkptr=1,clobberfree=1,stress=1000,trace=/tmp/x.trace", err), 0);
    EXPECT_EQ(o.gc_percent, 50);
    EXPECT_EQ(o.memory_limit, 512ull << 20);
    EXPECT_EQ(o.stop_the_world, 1);
    EXPECT_EQ(o.mark_workers, 3);
    EXPECT_EQ(o.gctrace, 1);
    EXPECT_EQ(o.checkmark, 1);
    EXPECT_EQ(o.checkptr, 1);
    EXPECT_EQ(o.clobberfree, 1);
    EXPECT_EQ(o.stress, 1000);
    EXPECT(strcmp(o.trace, "/tmp/x.trace") == 0);
}

static void test_sizes_and_overrides(void)
{
    options_t o;
    char err[256];
    EXPECT_EQ(parse(&o, "memlimit=2GiB", err), 0);
    EXPECT_EQ(o.memory_limit, 2ull << 30);
    EXPECT_EQ(parse(&o, "memlimit=4096", err), 0);
    EXPECT_EQ(o.memory_limit, 4096);
    EXPECT_EQ(parse(&o, "memlimit=3KiB", err), 0);
    EXPECT_EQ(o.memory_limit, 3072);
    EXPECT_EQ(parse(&o, "memlimit=1TiB", err), 0);
    EXPECT_EQ(o.memory_limit, 1ull << 40);
    EXPECT_EQ(parse(&o, "memlimit=5MB", err), 0);
    EXPECT_EQ(o.memory_limit, 5000000);
    EXPECT_EQ(parse(&o, "gcpercent=-1", err), 0);
    EXPECT_EQ(o.gc_percent, -1);
    EXPECT_EQ(parse(&o, "gcpercent=10,gcpercent=20", err), 0);
    EXPECT_EQ(o.gc_percent, 20);
    EXPECT_EQ(parse(&o, "", err), 0);
    EXPECT_EQ(o.gc_percent, 100);
    EXPECT_EQ(parse(&o, "stw=1,", err), 0);
}

static void expect_rejected(const char *setting, const char *must_mention)
{
    options_t o;
    char err[256];
    int rc = parse(&o, setting, err);
    EXPECT_EQ(rc, TC_EINVAL);
    if (strstr(err, must_mention) == NULL)
        T_FAIL("message for '%s' does not mention '%s': %s", setting, must_mention, err);
}

static void test_bad_input(void)
{
    expect_rejected("gcpercnt=5", "unknown setting 'gcpercnt'");
    expect_rejected("gcpercent", "'gcpercent' is not key=value");
    expect_rejected("gcpercent=", "gcpercent");
    expect_rejected("gcpercent=abc", "'abc' is not an integer");
    expect_rejected("gcpercent=12x", "'12x'");
    expect_rejected("gcpercent=99999999999", "gcpercent");
    expect_rejected("memlimit=lots", "'lots' is not a size");
    expect_rejected("memlimit=-5MiB", "memlimit");
    expect_rejected("memlimit=12PiB", "memlimit");
    expect_rejected("memlimit=99999999999TiB", "memlimit");
    expect_rejected("stw=2", "'2' is not 0 or 1");
    expect_rejected("stw=yes", "stw");
    expect_rejected("stress=-3", "'-3' is not a count");
    expect_rejected("trace=", "trace");
    expect_rejected("stw=1,bogus=1", "unknown setting 'bogus'");
}

static void test_init_rejects_bad_environment(void)
{
    setenv("TRICOLOR", "gctrace=maybe", 1);
    EXPECT_EQ(tc_init(NULL), TC_EINVAL);
    setenv("TRICOLOR", "gcpercent=200", 1);
    EXPECT_EQ(tc_init(NULL), 0);
    EXPECT_EQ(options.gc_percent, 200);
    EXPECT_EQ(tc_init(NULL), TC_ESTATE);
    tc_shutdown();
    unsetenv("TRICOLOR");
    tc_options opts = { .gc_percent = 42 };
    EXPECT_EQ(tc_init(&opts), 0);
    EXPECT_EQ(options.gc_percent, 42);
    tc_shutdown();
    /* Zero means default, and the environment overrides the API. */
    setenv("TRICOLOR", "gcpercent=7", 1);
    tc_options zero = {0};
    EXPECT_EQ(tc_init(&zero), 0);
    EXPECT_EQ(options.gc_percent, 7);
    tc_shutdown();
    unsetenv("TRICOLOR");
    EXPECT_EQ(tc_init(&(tc_options){.mark_workers = -1}), TC_EINVAL);
    EXPECT_EQ(tc_init(&(tc_options){.stop_the_world = 7}), TC_EINVAL);
    EXPECT_EQ(tc_init(&(tc_options){.memory_limit = -5}), TC_EINVAL);
    setenv("TRICOLOR", "signal=9", 1);
    EXPECT_EQ(tc_init(NULL), TC_EINVAL); /* SIGKILL cannot be caught */
    setenv("TRICOLOR", "signal=12", 1);
    EXPECT_EQ(tc_init(NULL), 0);
    EXPECT_EQ(options.signal, 12);
    tc_shutdown();
    unsetenv("TRICOLOR");
    EXPECT(strcmp(tc_strerror(TC_EINVAL), "invalid argument") == 0);
    EXPECT(strcmp(tc_strerror(12345), "unknown error") == 0);
}

int main(void)
{
    RUN(test_every_key);
    RUN(test_sizes_and_overrides);
    RUN(test_bad_input);
    RUN(test_init_rejects_bad_environment);
    TEST_MAIN_END();
}
