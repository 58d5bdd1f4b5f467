/*
 * trace_corpus_test.c -- the fuzzing corpus as a regression test, with any
 * compiler: every file of tools/trace/corpus, every truncation of it and
 * single-bit flips and byte overwrites across it go through the fuzz
 * target's entry point (tools/trace/tr_fuzz.c: parse, analyse with
 * invariant checks, all three commands).  Each must end in an error or a
 * success -- a crash, a sanitizer report or a broken invariant fails the
 * run.  Large files get an evenly spread sample of the mutations, so the
 * whole run stays within a few seconds under AddressSanitizer.
 *
 *   trace_corpus_test             the corpus (or $TRACE_CORPUS)
 *   trace_corpus_test FILE...     replays those files, as they are
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "tr_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MUTATIONS 600 /* per kind per file */

static uint8_t *load(const char *path, size_t *size)
{
    uint8_t *data;
    tr_error err;
    if (tr_read_file(path, &data, size, &err) < 0) {
        T_FAIL("%s: %s", path, err.msg);
        return NULL;
    }
    return data;
}

/* Positions 0..n-1, or an evenly spread MAX_MUTATIONS of them. */
static size_t stride_for(size_t n)
{
    return n <= MAX_MUTATIONS ? 1 : (n + MAX_MUTATIONS - 1) / MAX_MUTATIONS;
}

static void run_file(const char *path)
{
    size_t size;
    uint8_t *data = load(path, &size);
    if (data == NULL)
        return;
    uint8_t *copy = malloc(size ? size : 1);
    REQUIRE(copy != NULL);
    size_t runs = 0;

    memcpy(copy, data, size);
    LLVMFuzzerTestOneInput(copy, size);
    runs++;
    /* Truncations: every prefix (a copy of exactly that length, so ASan sees
     * any read past its end). */
    size_t step = stride_for(size);
    for (size_t n = 0; n < size; n += step) {
        uint8_t *prefix = malloc(n ? n : 1);
        REQUIRE(prefix != NULL);
        memcpy(prefix, data, n);
        LLVMFuzzerTestOneInput(prefix, n);
        free(prefix);
        runs++;
    }
    /* Bit flips. */
    step = stride_for(size * 8);
    for (size_t bit = 0; bit < size * 8; bit += step) {
        memcpy(copy, data, size);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        LLVMFuzzerTestOneInput(copy, size);
        runs++;
    }
    /* Bytes overwritten with values that mean something to the format:
     * 0, a uvarint continuation, all ones, a record tag, an event type. */
    static const uint8_t values[] = {0x00, 0x80, 0xff, 0x01, 0x02, 0x03, 0x12, 0x25};
    step = stride_for(size * sizeof values);
    for (size_t k = 0; k < size * sizeof values; k += step) {
        memcpy(copy, data, size);
        copy[k / sizeof values] = values[k % sizeof values];
        LLVMFuzzerTestOneInput(copy, size);
        runs++;
    }
    fprintf(stderr, "  %s: %zu bytes, %zu inputs\n", path, size, runs);
    test_checks++;
    free(copy);
    free(data);
}

static int name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    test_current = "corpus";
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            size_t size;
            uint8_t *data = load(argv[i], &size);
            if (data != NULL) {
                LLVMFuzzerTestOneInput(data, size);
                fprintf(stderr, "  %s: replayed\n", argv[i]);
                test_checks++;
                free(data);
            }
        }
        TEST_MAIN_END();
    }
    const char *dir = getenv("TRACE_CORPUS") ? getenv("TRACE_CORPUS") : "tools/trace/corpus";
    DIR *d = opendir(dir);
    if (d == NULL) {
        T_FAIL("cannot open the corpus %s (run from the repository's root)", dir);
        TEST_MAIN_END();
    }
    char *names[1024];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 1024)
        if (de->d_name[0] != '.')
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, name_order);
    REQUIRE(n >= 5);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        run_file(path);
        free(names[i]);
    }
    TEST_MAIN_END();
}
