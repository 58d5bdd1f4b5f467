/*
 * gen_known.c -- writes the two synthetic heap dumps that the tool's tests
 * read (tests/heapdump/tool_test.sh): known_old.tchd and known_new.tchd in
 * the directory given as argument.
 *
 * The dumps are built from this file alone, with an encoder written from
 * docs/heapdump-format.md independently of the runtime's writer, at fixed
 * addresses, so the tool's output on them is the same on every machine
 * and can be compared with the expected output committed next to them.
 * The committed copies of the dumps must equal what this program writes
 * (the test checks it), and they double as fuzzing seeds.
 *
 * The graph (addresses in hex, "node" = struct node, 32-byte slots):
 *
 *   registered root 600000..600040, word +0x18 -> n1
 *   global data 601000..602000, word +0x10 -> n4
 *   thread 1 (the dumper) stack, word at 7ff0000ff040 -> n3
 *   thread 2 (parked) register 2 -> leaf1
 *   n1 node: next -> n2, other -> leaf1          n2 node: next -> u1
 *   u1 (tc_alloc, 64 B): +0x8 -> n3, +0x28 -> n2+8 (interior)
 *   n4 node: other -> big (a large array of nodes, 49152 B), big +0x30 -> n5
 *   n5 node: other -> t1 (tagged, scan function): #0 -> leaf2
 *   fobj node with a finalizer (argument leaf3): next -> fref
 *   qobj: queued for its finalizer;  wobj node, weakly held by handle wh
 *   g1 node: garbage
 *
 * NEW is OLD without g1, with a chain of 6 new nodes and 3 new leaves hung
 * from n4->next, and a leaf where g1 was (a new object at an old address).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/heapdump_format.h"

typedef struct out {
    uint8_t buf[1 << 16];
    size_t len;
    uint8_t rec[1 << 14];
    size_t rlen;
    uint64_t nrecords;
} out;

static void raw(out *o, const void *p, size_t n)
{
    if (o->len + n > sizeof o->buf)
        abort();
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void uv(out *o, uint64_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        if (v)
            b |= 0x80;
        if (o->rlen == sizeof o->rec)
            abort();
        o->rec[o->rlen++] = b;
    } while (v);
}

static void str(out *o, const char *s)
{
    size_t n = strlen(s);
    uv(o, n);
    memcpy(o->rec + o->rlen, s, n);
    o->rlen += n;
}

static void begin(out *o) { o->rlen = 0; }

static void end(out *o, uint8_t tag)
{
    raw(o, &tag, 1);
    size_t n = o->rlen;
    o->rlen = sizeof o->rec - 16; /* encode the length at the tail, then move it */
    size_t at = o->rlen;
    uv(o, n);
    raw(o, o->rec + at, o->rlen - at);
    raw(o, o->rec, n);
    o->nrecords++;
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* Addresses. */
#define N1 0xc000010000ull
#define N2 0xc000010020ull
#define N3 0xc000010040ull
#define G1 0xc000010060ull
#define N4 0xc000010080ull
#define FOBJ 0xc0000100a0ull
#define FREF 0xc0000100c0ull
#define WOBJ 0xc0000100e0ull
#define QOBJ 0xc000010100ull
#define N5 0xc000010120ull
#define LEAF1 0xc000020000ull
#define LEAF2 0xc000020010ull
#define LEAF3 0xc000020020ull
#define U1 0xc000030000ull
#define T1 0xc000030040ull
#define WH 0xc000040000ull
#define BIG 0xc000100000ull
#define NEWN 0xc000050000ull /* new nodes: NEWN + 32 * i */
#define NEWL 0xc000060000ull /* new leaves: NEWL + 16 * i */

enum { T_NODE = 1, T_LEAF, T_TAGGED, T_HANDLE };

typedef struct edge {
    uint64_t slot, target, off;
} edge;

static void object(out *o, uint64_t addr, uint64_t size, uint64_t type, uint64_t scan, const edge *e, size_t n)
{
    begin(o);
    uv(o, addr);
    uv(o, size);
    uv(o, type);
    uv(o, scan);
    uv(o, n);
    for (size_t i = 0; i < n; i++) {
        uv(o, e[i].slot);
        uv(o, e[i].target);
        uv(o, e[i].off);
    }
    end(o, HD_TAG_OBJECT);
}

static void root(out *o, uint64_t kind, uint64_t owner, uint64_t lo, uint64_t hi, const edge *e, size_t n)
{
    begin(o);
    uv(o, kind);
    uv(o, owner);
    uv(o, lo);
    uv(o, hi);
    uv(o, n);
    for (size_t i = 0; i < n; i++) {
        uv(o, e[i].slot);
        uv(o, e[i].target);
        uv(o, e[i].off);
    }
    end(o, HD_TAG_ROOT);
}

static void node(out *o, uint64_t addr, uint64_t next, uint64_t other)
{
    edge e[2] = {{0, 0, 0}, {0, 0, 0}};
    size_t n = 0;
    if (next)
        e[n++] = (edge){0, next, 0};
    if (other)
        e[n++] = (edge){8, other, 0};
    object(o, addr, 32, T_NODE, HD_SCAN_OFFSETS, e, n);
}

static void write_dump(const char *path, int is_new)
{
    static out o;
    memset(&o, 0, sizeof o);
    const uint8_t header[HD_HEADER_SIZE] = {'T', 'C', 'H', 'D', HD_VERSION, 0, HD_PTR_SIZE, 0};
    raw(&o, header, sizeof header);

    begin(&o);
    uv(&o, 1700000000ull * 1000000000ull + (is_new ? 60ull * 1000000000ull : 0));
    uv(&o, 4242);
    uv(&o, HD_PHASE_OFF);
    uv(&o, is_new ? 5 : 3);
    end(&o, HD_TAG_INFO);

    begin(&o);
    uv(&o, 3);
    str(&o, "heap_alloc");
    uv(&o, is_new ? 49800 : 49536);
    str(&o, "num_gc");
    uv(&o, is_new ? 5 : 3);
    str(&o, "a_future_statistic");
    uv(&o, 7);
    end(&o, HD_TAG_STATS);

    const char *names[] = {"struct node", "struct leaf", "tagged", "tc_weak_handle"};
    for (uint64_t i = 0; i < 4; i++) {
        begin(&o);
        uv(&o, i + 1);
        str(&o, names[i]);
        end(&o, HD_TAG_STRING);
    }
    const uint64_t sizes[] = {24, 16, 16, 8};
    for (uint64_t i = 0; i < 4; i++) {
        begin(&o);
        uv(&o, i + 1);
        uv(&o, i + 1);
        uv(&o, sizes[i]);
        uv(&o, i + 1 == T_TAGGED ? HD_SCAN_FUNCTION : HD_SCAN_OFFSETS);
        if (i + 1 == T_NODE) {
            uv(&o, 2);
            uv(&o, 0);
            uv(&o, 8);
        } else {
            uv(&o, 0);
        }
        end(&o, HD_TAG_TYPE);
    }

    /* An unknown record kind: readers skip it. */
    begin(&o);
    uv(&o, 12345);
    end(&o, 99);

    node(&o, N1, N2, LEAF1);
    node(&o, N2, U1, 0);
    node(&o, N3, 0, 0);
    if (!is_new)
        node(&o, G1, 0, 0);
    else
        object(&o, G1, 16, T_LEAF, HD_SCAN_NONE, NULL, 0);
    node(&o, N4, is_new ? NEWN : 0, BIG);
    node(&o, FOBJ, FREF, 0);
    node(&o, FREF, 0, 0);
    node(&o, WOBJ, 0, 0);
    node(&o, QOBJ, 0, 0);
    node(&o, N5, 0, T1);
    object(&o, LEAF1, 16, T_LEAF, HD_SCAN_NONE, NULL, 0);
    object(&o, LEAF2, 16, T_LEAF, HD_SCAN_NONE, NULL, 0);
    object(&o, LEAF3, 16, T_LEAF, HD_SCAN_NONE, NULL, 0);
    const edge u1[] = {{8, N3, 0}, {0x28, N2, 8}};
    object(&o, U1, 64, 0, HD_SCAN_CONSERVATIVE, u1, 2);
    const edge t1[] = {{0, LEAF2, 0}};
    object(&o, T1, 16, T_TAGGED, HD_SCAN_FUNCTION, t1, 1);
    object(&o, WH, 8, T_HANDLE, HD_SCAN_NONE, NULL, 0);
    const edge big[] = {{0x30, N5, 0}};
    object(&o, BIG, 49152, T_NODE, HD_SCAN_OFFSETS, big, 1);
    if (is_new) {
        for (uint64_t i = 0; i < 6; i++)
            node(&o, NEWN + 32 * i, i + 1 < 6 ? NEWN + 32 * (i + 1) : 0, i < 3 ? NEWL + 16 * i : 0);
        for (uint64_t i = 0; i < 3; i++)
            object(&o, NEWL + 16 * i, 16, T_LEAF, HD_SCAN_NONE, NULL, 0);
    }

    begin(&o);
    uv(&o, 1);
    uv(&o, HD_THREAD_BLOCKING);
    uv(&o, HD_THREAD_FLAG_SELF);
    uv(&o, 0x7ff000000000ull);
    uv(&o, 0x7ff000100000ull);
    uv(&o, 0x7ff0000ff000ull);
    uv(&o, 0);
    end(&o, HD_TAG_THREAD);
    begin(&o);
    uv(&o, 2);
    uv(&o, HD_THREAD_PARKED);
    uv(&o, 0);
    uv(&o, 0x7fe000000000ull);
    uv(&o, 0x7fe000100000ull);
    uv(&o, 0x7fe0000fe000ull);
    uv(&o, 4);
    end(&o, HD_TAG_THREAD);

    const edge stack1[] = {{0x40, N3, 0}};
    root(&o, HD_ROOT_STACK, 1, 0x7ff0000ff000ull, 0x7ff000100000ull, stack1, 1);
    root(&o, HD_ROOT_STACK, 2, 0x7fe0000fe000ull, 0x7fe000100000ull, NULL, 0);
    const edge regs2[] = {{2, LEAF1, 0}};
    root(&o, HD_ROOT_REGISTERS, 2, 0, 4, regs2, 1);
    const edge glob[] = {{0x10, N4, 0}};
    root(&o, HD_ROOT_GLOBAL, 0, 0x601000, 0x602000, glob, 1);
    const edge reg[] = {{0x18, N1, 0}};
    root(&o, HD_ROOT_REGISTERED, 0, 0x600000, 0x600040, reg, 1);

    begin(&o);
    uv(&o, FOBJ);
    uv(&o, 0x401000);
    uv(&o, LEAF3);
    uv(&o, LEAF3);
    uv(&o, 0);
    end(&o, HD_TAG_FINALIZER);
    begin(&o);
    uv(&o, QOBJ);
    uv(&o, 0x401000);
    uv(&o, 0);
    uv(&o, 0);
    uv(&o, 0);
    end(&o, HD_TAG_QUEUED_FINALIZER);
    begin(&o);
    uv(&o, WOBJ);
    uv(&o, WH);
    end(&o, HD_TAG_WEAK);

    uint32_t crc = crc32(o.buf, o.len);
    begin(&o);
    uv(&o, o.nrecords);
    for (int i = 0; i < 4; i++)
        o.rec[o.rlen++] = (uint8_t)(crc >> (8 * i));
    end(&o, HD_TAG_END);

    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(o.buf, 1, o.len, f) != o.len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_known DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/known_old.tchd", argv[1]);
    write_dump(path, 0);
    snprintf(path, sizeof path, "%s/known_new.tchd", argv[1]);
    write_dump(path, 1);
    return 0;
}
