/*
 * heapdump_corpus_test.c -- replays the heap dump fuzzing corpus
 * (tests/fuzz/corpus/heapdump/, or the directory given) through the fuzz
 * target, with any compiler and no libFuzzer: part of `make test`.
 *
 * For every corpus file: the file itself; every truncation of it (each
 * must fail with an offset, never crash); one bit flipped at each byte;
 * and a fixed, seeded series of random multi-byte mutations (overwrites,
 * insertions, deletions).  Files ending in .tchd are real or synthetic
 * dumps and must parse cleanly as they are; the others may be anything.
 * A crash or a broken property aborts the program (see heapdump_fuzz.c).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int replay(const char *path, const char *name)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    uint8_t *buf = malloc(1 << 20);
    size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    if (buf == NULL)
        return 1;
    int failures = 0;
    size_t nlen = strlen(name);
    if (nlen > 5 && strcmp(name + nlen - 5, ".tchd") == 0) {
        hd_dump d;
        if (hd_parse(buf, len, 0, &d) != 0) {
            fprintf(stderr, "FAIL %s: a committed dump does not parse: %s\n", name, d.error);
            failures++;
        } else {
            hd_free(&d);
        }
        /* Every proper prefix of a valid dump is truncated: an error. */
        for (size_t n = 0; n < len; n++) {
            if (hd_parse(buf, n, 0, &d) == 0) {
                fprintf(stderr, "FAIL %s: the first %zu bytes parse\n", name, n);
                hd_free(&d);
                failures++;
                break;
            }
        }
    }
    LLVMFuzzerTestOneInput(buf, len);
    for (size_t n = 0; n < len; n++)
        LLVMFuzzerTestOneInput(buf, n);
    uint8_t *m = malloc(len + 64);
    if (m == NULL) {
        free(buf);
        return 1;
    }
    for (size_t i = 0; i < len; i++) {
        memcpy(m, buf, len);
        m[i] ^= (uint8_t)(1u << (i % 8));
        LLVMFuzzerTestOneInput(m, len);
    }
    for (int k = 0; k < 300 && len > 0; k++) {
        memcpy(m, buf, len);
        size_t mlen = len;
        for (int edits = 1 + (int)(next_rand() % 4); edits > 0; edits--) {
            size_t at = (size_t)(next_rand() % mlen);
            switch (next_rand() % 3) {
            case 0: /* overwrite a few bytes */
                for (size_t j = at; j < mlen && j < at + 1 + next_rand() % 4; j++)
                    m[j] = (uint8_t)next_rand();
                break;
            case 1: /* insert a byte */
                if (mlen < len + 64) {
                    memmove(m + at + 1, m + at, mlen - at);
                    m[at] = (uint8_t)next_rand();
                    mlen++;
                }
                break;
            default: /* delete a byte */
                if (mlen > 1) {
                    memmove(m + at, m + at + 1, mlen - at - 1);
                    mlen--;
                }
                break;
            }
        }
        LLVMFuzzerTestOneInput(m, mlen);
    }
    free(m);
    free(buf);
    return failures;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/heapdump";
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        perror(dir);
        return 1;
    }
    int failures = 0, files = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        failures += replay(path, e->d_name);
        files++;
    }
    closedir(dp);
    fprintf(stderr, "  %d corpus files replayed with truncations and mutations, %d failures\n", files, failures);
    if (files == 0) {
        fprintf(stderr, "FAIL: no corpus files in %s\n", dir);
        return 1;
    }
    return failures != 0;
}
