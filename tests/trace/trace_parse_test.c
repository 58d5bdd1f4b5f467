/*
 * trace_parse_test.c -- the trace decoder (tools/trace/tr_parse.c): a
 * well-formed trace decodes to the events written, and each way a file can
 * be malformed or truncated is rejected with a message naming it and the
 * byte offset where it was found.
 */
#include <string.h>

#include "test.h"
#include "tr_parse.h"
#include "trace_examples.h"

static int parse(const uint8_t *p, size_t n, tr_trace *t, tr_error *err)
{
    return tr_parse(p, n, t, err);
}

/* Expects tr_parse to fail at `offset` with a message containing `text`. */
#define EXPECT_ERROR(buf, len, want_offset, text)                                            \
    do {                                                                                     \
        tr_trace t_;                                                                         \
        tr_error e_;                                                                         \
        int rc_ = parse((buf), (len), &t_, &e_);                                             \
        EXPECT(rc_ == -1);                                                                   \
        if (rc_ == -1 && (e_.offset != (uint64_t)(want_offset) || !strstr(e_.msg, (text))))  \
            T_FAIL("want offset %llu \"%s\", got offset %llu \"%s\"",                        \
                   (unsigned long long)(want_offset), (text), (unsigned long long)e_.offset, \
                   e_.msg);                                                                  \
        tr_free(&t_);                                                                        \
    } while (0)

static void test_basic_decodes(void)
{
    tw w;
    example_basic(&w);
    tr_trace t;
    tr_error err;
    REQUIRE(parse(w.buf, w.len, &t, &err) == 0);
    EXPECT_EQ(t.version, 1);
    EXPECT_EQ(t.frequency, 1000000000);
    EXPECT_EQ(t.start_wall, w.start_wall);
    EXPECT_EQ(t.duration, 1000 * MS);
    EXPECT_EQ(t.end, 1000 * MS);
    EXPECT_EQ(t.nbatches, 5);
    EXPECT_EQ(t.nthreads, 4);
    EXPECT_EQ(t.nevents, 48);
    EXPECT(strcmp(tr_thread_name(&t, 0), "gc controller") == 0);
    EXPECT(strcmp(tr_thread_name(&t, 3), "mark worker") == 0);
    EXPECT_EQ(t.threads[3].id, 4);
    /* Sorted by time, file order among equals: thread 1's three events at 0
     * come before thread 2's. */
    for (size_t i = 1; i < t.nevents; i++)
        EXPECT(t.events[i - 1].time <= t.events[i].time);
    EXPECT_EQ(t.events[0].type, TR_THREAD_NAME);
    EXPECT_EQ(t.events[0].thread, 0);
    EXPECT_EQ(t.events[1].type, TR_HEAP_ALLOC);
    EXPECT_EQ(t.events[1].arg[0], 4 << 20);
    int logs = 0, gc_begins = 0;
    for (size_t i = 0; i < t.nevents; i++) {
        const tr_event *e = &t.events[i];
        if (e->type == TR_LOG && e->time == 20 * MS) {
            size_t len;
            const uint8_t *m = tr_log_message(&t, e, &len);
            EXPECT(len == strlen("hello, \"trace\"") && memcmp(m, "hello, \"trace\"", len) == 0);
            EXPECT(strcmp(tr_str(&t, e->str), "app") == 0);
            logs++;
        }
        if (e->type == TR_GC_BEGIN && e->arg[0] == 2) {
            EXPECT_EQ(e->arg[1], 1);
            EXPECT_EQ(e->time, 300 * MS);
            gc_begins++;
        }
        if (e->type == TR_TASK_BEGIN) {
            EXPECT_EQ(e->arg[0], 7);
            EXPECT(strcmp(tr_str(&t, e->str), "request") == 0);
        }
        if (e->type == TR_STW_BEGIN && e->time == 200 * MS)
            EXPECT(strcmp(tr_str(&t, e->str), "mark termination") == 0);
    }
    EXPECT_EQ(logs, 1);
    EXPECT_EQ(gc_begins, 1);
    tr_free(&t);
    tw_free(&w);
}

/* Redundant 0x80 groups in uvarints are accepted, the batch length in any
 * number of bytes; events exactly fill their batch. */
static void test_padded_uvarints(void)
{
    tw w;
    tw_init(&w);
    tw_byte(&w, 0x01);
    tw_bytes(&w, "\x82\x80\x80\x00", 4); /* thread 2, padded */
    tw_byte(&w, 0x05);                    /* base 5 */
    tw_byte(&w, 7);                       /* length 7, one byte */
    tw_bytes(&w, "\x1b\x83\x80\x00", 4); /* HEAP_ALLOC, delta 3 padded */
    tw_bytes(&w, "\x80\x01", 2);         /* bytes = 128 */
    tw_bytes(&w, "\x13", 1);             /* ... one byte short: STW_END's delta is missing */
    tw_finish(&w, 10);
    tr_trace t;
    tr_error err;
    EXPECT_ERROR(w.buf, w.len, 16 + 1 + 4 + 1 + 1 + 4 + 2 + 1, "runs past the end of its batch");
    w.buf[16 + 1 + 4 + 1] = 6; /* without the STW_END: valid */
    memmove(w.buf + 16 + 1 + 4 + 1 + 1 + 6, w.buf + 16 + 1 + 4 + 1 + 1 + 7, w.len - (16 + 1 + 4 + 1 + 1 + 7));
    w.len--;
    REQUIRE(parse(w.buf, w.len, &t, &err) == 0);
    EXPECT_EQ(t.nevents, 1);
    EXPECT_EQ(t.threads[0].id, 2);
    EXPECT_EQ(t.events[0].time, 8);
    EXPECT_EQ(t.events[0].arg[0], 128);
    tr_free(&t);
    tw_free(&w);
}

static void test_header_errors(void)
{
    tw w;
    example_empty(&w);
    tr_trace t;
    tr_error err;
    REQUIRE(parse(w.buf, w.len, &t, &err) == 0);
    EXPECT_EQ(t.nevents, 0);
    EXPECT_EQ(t.nthreads, 0);
    tr_free(&t);
    EXPECT_ERROR(w.buf, 0, 0, "truncated");
    EXPECT_ERROR(w.buf, 15, 15, "a trace header alone has 16");
    EXPECT_ERROR(w.buf, 16, 16, "without a footer");
    w.buf[3] = 'X';
    EXPECT_ERROR(w.buf, w.len, 0, "not a tricolor trace");
    w.buf[3] = 'R';
    w.buf[8] = 2;
    EXPECT_ERROR(w.buf, w.len, 8, "version 2; this reader knows version 1");
    w.buf[8] = 1;
    w.buf[16] = 0x07;
    EXPECT_ERROR(w.buf, w.len, 16, "unknown record tag 0x07");
    tw_free(&w);
}

static void test_footer_errors(void)
{
    tw w;
    example_empty(&w); /* footer at 16: 02, freq (5 bytes), start (9), 00 duration, 00 count, 03 */
    size_t end_at = w.len - 1;
    EXPECT_ERROR(w.buf, end_at, end_at, "before the footer's end byte");
    w.buf[end_at] = 0x04;
    EXPECT_ERROR(w.buf, w.len, end_at, "expected the footer's end byte 0x03, found 0x04");
    w.buf[end_at] = 0x03;
    tw_byte(&w, 0);
    EXPECT_ERROR(w.buf, w.len, w.len - 1, "1 bytes of trailing data after the footer");
    tw_free(&w);

    /* frequency 0 */
    tw_init(&w);
    tw_bytes(&w, "\x02\x00\x00\x00\x00\x03", 6);
    EXPECT_ERROR(w.buf, w.len, 17, "frequency is 0");
    tw_free(&w);

    /* the string table: duplicates, id 0, a length past the end */
    tw_init(&w);
    tw_bytes(&w, "\x02\x01\x00\x00\x02", 5);
    tw_bytes(&w, "\x01\x01x\x01\x01y\x03", 7);
    EXPECT_ERROR(w.buf, w.len, 24, "string id 1 is defined twice");
    w.buf[24] = 0; /* id 0 with one byte */
    EXPECT_ERROR(w.buf, w.len, 24, "string id 0 is the empty string");
    w.buf[24] = 2;
    w.buf[25] = 9; /* "y" claims 9 bytes */
    EXPECT_ERROR(w.buf, w.len, 24, "truncated: string id 2 needs 9 bytes");
    tw_free(&w);
}

static void test_batch_errors(void)
{
    tw w;
    tw_init(&w);
    tw_batch(&w, 1, 100);
    tw_ev(&w, TW_STW_END, 100);
    size_t ev2 = w.len;
    tw_ev1(&w, TW_HEAP_ALLOC, 110, 5);
    tw_finish(&w, 200);
    tr_trace t;
    tr_error err;
    REQUIRE(parse(w.buf, w.len, &t, &err) == 0);
    EXPECT_EQ(t.events[1].time, 110);
    tr_free(&t);

    w.buf[ev2] = 0x7f;
    EXPECT_ERROR(w.buf, w.len, ev2, "unknown event type 0x7f");
    w.buf[ev2] = TW_HEAP_ALLOC;
    w.buf[ev2 + 1] = 0; /* delta 0 after the first event's 0: fine */
    REQUIRE(parse(w.buf, w.len, &t, &err) == 0);
    tr_free(&t);
    w.buf[ev2 - 1] = 5; /* the first event's delta 5, the second's 0: backwards */
    EXPECT_ERROR(w.buf, w.len, ev2, "HEAP_ALLOC goes back in time within its batch (delta 0 after 5)");
    w.buf[ev2 - 1] = 0;

    /* thread id 0, a batch longer than the file */
    w.buf[17] = 0;
    EXPECT_ERROR(w.buf, w.len, 16, "thread id 0");
    w.buf[17] = 1;
    EXPECT_ERROR(w.buf, ev2 + 1, 16, "truncated: the batch needs 5 bytes of events, the file has 3 left");
    tw_free(&w);

    /* a uvarint of 11 bytes; one whose 10th byte overflows 64 bits */
    tw_init(&w);
    tw_byte(&w, 0x01);
    for (int i = 0; i < 10; i++)
        tw_byte(&w, 0x81);
    tw_byte(&w, 0x01);
    tw_finish(&w, 0);
    EXPECT_ERROR(w.buf, w.len, 17, "a batch's thread id: uvarint longer than 10 bytes");
    w.buf[17 + 9] = 0x02;
    EXPECT_ERROR(w.buf, w.len, 17, "over 64 bits");
    w.buf[17 + 9] = 0x01; /* 10 bytes, bit 63: the largest uvarint */
    w.buf[17 + 10] = 0x00;
    tw_free(&w);

    /* base + delta past 2^64 */
    tw_init(&w);
    tw_batch(&w, 1, UINT64_MAX - 1);
    tw_byte(&w, TW_STW_END);
    tw_uvarint(&w, 2);
    tw_finish(&w, 0);
    EXPECT_ERROR(w.buf, w.len, 16 + 1 + 1 + 10 + 3, "time overflows 64 bits");
    tw_free(&w);
}

static void test_argument_errors(void)
{
    tw w;
    tw_init(&w);
    tw_batch(&w, 1, 0);
    size_t gc = w.len;
    tw_ev2(&w, TW_GC_BEGIN, 0, 1, 2);
    tw_finish(&w, 0);
    EXPECT_ERROR(w.buf, w.len, gc, "GC_BEGIN's forced flag is 2, not 0 or 1");
    tw_free(&w);

    /* a string id the footer lacks */
    tw_init(&w);
    tw_batch(&w, 1, 0);
    size_t at = w.len;
    tw_head(&w, TW_PHASE, 0);
    tw_uvarint(&w, 42);
    tw_finish(&w, 0);
    EXPECT_ERROR(w.buf, w.len, at, "PHASE refers to string id 42, which the footer's table lacks");
    tw_free(&w);

    /* a LOG message longer than its batch; a LOG cut after its category */
    tw_init(&w);
    tw_batch(&w, 1, 0);
    at = w.len;
    tw_head(&w, TW_LOG, 0);
    tw_uvarint(&w, tw_string(&w, "cat"));
    tw_uvarint(&w, 50);
    tw_bytes(&w, "short", 5);
    tw_finish(&w, 0);
    EXPECT_ERROR(w.buf, w.len, at, "LOG's message of 50 bytes runs past the end of its batch");
    tw_free(&w);
    tw_init(&w);
    tw_batch(&w, 1, 0);
    tw_head(&w, TW_TASK_BEGIN, 0);
    tw_uvarint(&w, 3); /* the task id, then nothing */
    tw_finish(&w, 0);
    EXPECT_ERROR(w.buf, w.len, 16 + 6 + 2 + 1, "TASK_BEGIN's name runs past the end of its batch");
    tw_free(&w);
}

/* Every proper prefix of a valid trace is truncated, and says so with an
 * offset inside the prefix. */
static void test_every_truncation(void)
{
    tw w;
    example_basic(&w);
    for (size_t n = 0; n < w.len; n++) {
        tr_trace t;
        tr_error err;
        int rc = parse(w.buf, n, &t, &err);
        if (rc != -1 || err.offset > n || strstr(err.msg, "truncated") == NULL) {
            T_FAIL("prefix of %zu bytes: rc %d, offset %llu, \"%s\"", n, rc, (unsigned long long)err.offset,
                   err.msg);
            break;
        }
        tr_free(&t);
    }
    test_checks++;
    tw_free(&w);
}

/* Names are looked up by string id, whatever order the table has. */
static void test_thread_names(void)
{
    tw w;
    tw_init(&w);
    tw_batch(&w, 9, 0);
    tw_ev(&w, TW_THREAD_ATTACH, 1);
    tw_batch(&w, 9, 5);
    tw_str_ev(&w, TW_THREAD_NAME, 5, "late name");
    tw_batch(&w, 3, 0);
    tw_str_ev(&w, TW_THREAD_NAME, 0, "three");
    tw_finish(&w, 10);
    tr_trace t;
    tr_error err;
    REQUIRE(parse(w.buf, w.len, &t, &err) == 0);
    EXPECT_EQ(t.nthreads, 2);
    EXPECT_EQ(t.threads[0].id, 9);
    EXPECT(strcmp(tr_thread_name(&t, 0), "late name") == 0);
    EXPECT(strcmp(tr_thread_name(&t, 1), "three") == 0);
    EXPECT_EQ(t.threads[0].nevents, 2);
    tr_free(&t);
    tw_free(&w);
}

int main(void)
{
    RUN(test_basic_decodes);
    RUN(test_padded_uvarints);
    RUN(test_header_errors);
    RUN(test_footer_errors);
    RUN(test_batch_errors);
    RUN(test_argument_errors);
    RUN(test_every_truncation);
    RUN(test_thread_names);
    TEST_MAIN_END();
}
