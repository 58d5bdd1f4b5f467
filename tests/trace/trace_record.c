/*
 * trace_record.c -- records a real execution trace for cli_test.sh: a small
 * multi-threaded workload (binary trees through the write barrier, tasks,
 * regions, logs, blocking sections, forced and paced collections) traced
 * with the public API only.
 *
 *   trace_record OUT           tc_trace_start_file(OUT)
 *   trace_record OUT --reader  tc_trace_start, and a reader thread of ours
 *                              copying tc_trace_read's chunks to OUT
 *
 * Exit status 0, or 1 with a message on any failure.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tricolor.h>

#define WORKERS 3
#define ROUNDS 12

struct node {
    struct node *left, *right;
};

static const tc_type *node_type;

static void die(const char *what, int rc)
{
    fprintf(stderr, "trace_record: %s: %s\n", what, tc_strerror(rc));
    exit(1);
}

static struct node *tree(int depth)
{
    struct node *n = tc_new(node_type);
    if (n == NULL) {
        fprintf(stderr, "trace_record: out of memory\n");
        exit(1);
    }
    if (depth > 0) {
        struct node *l = tree(depth - 1);
        TC_STORE(n->left, l);
        struct node *r = tree(depth - 1);
        TC_STORE(n->right, r);
    }
    return n;
}

static long count(const struct node *n)
{
    return n == NULL ? 0 : 1 + count(n->left) + count(n->right);
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    int rc = tc_thread_attach();
    if (rc != 0)
        die("tc_thread_attach", rc);
    struct node *keep = tree(12); /* live across the rounds */
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t task = tc_trace_task_begin("round");
        tc_trace_region_begin("build");
        long n = 0;
        for (int i = 0; i < 8; i++)
            n += count(tree(10 + id % 2));
        tc_trace_region_end("build");
        if (n != 8 * ((1L << (11 + id % 2)) - 1)) {
            fprintf(stderr, "trace_record: wrong node count %ld\n", n);
            exit(1);
        }
        tc_blocking_begin(); /* a "system call" */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        tc_blocking_end();
        if (r % 4 == 0) {
            char msg[64];
            snprintf(msg, sizeof msg, "worker %d finished round %d", id, r);
            tc_trace_log("progress", msg);
        }
        tc_trace_task_end(task);
    }
    if (count(keep) != (1L << 13) - 1)
        exit(1);
    tc_thread_detach();
    return NULL;
}

static FILE *reader_out;

static void *reader(void *arg)
{
    (void)arg;
    size_t len;
    const void *chunk;
    while ((chunk = tc_trace_read(&len)) != NULL)
        if (fwrite(chunk, 1, len, reader_out) != len) {
            perror("trace_record: writing the trace");
            exit(1);
        }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (argc == 3 && strcmp(argv[2], "--reader") != 0) || argc > 3) {
        fprintf(stderr, "usage: trace_record OUT [--reader]\n");
        return 2;
    }
    bool own_reader = argc == 3;
    tc_options o = {0};
    o.gc_percent = 50;
    int rc = tc_init(&o);
    if (rc != 0)
        die("tc_init", rc);
    node_type = TC_TYPE(struct node, left, right);

    pthread_t rd;
    if (own_reader) {
        reader_out = fopen(argv[1], "wb");
        if (reader_out == NULL) {
            perror(argv[1]);
            return 1;
        }
        if ((rc = tc_trace_start()) != 0)
            die("tc_trace_start", rc);
        if (pthread_create(&rd, NULL, reader, NULL) != 0)
            return 1;
    } else if ((rc = tc_trace_start_file(argv[1])) != 0) {
        die("tc_trace_start_file", rc);
    }

    tc_trace_log("phase", "workload starts");
    pthread_t th[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)i) != 0)
            return 1;
    tc_collect(); /* a forced cycle while the workers run */
    tc_blocking_begin();
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    tc_blocking_end();
    tc_collect();
    tc_trace_log("phase", "workload done");

    if ((rc = tc_trace_stop()) != 0)
        die("tc_trace_stop", rc);
    if (own_reader) {
        pthread_join(rd, NULL);
        if (fclose(reader_out) != 0)
            return 1;
    }
    tc_shutdown();
    return 0;
}
