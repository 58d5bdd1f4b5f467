/*
 * heapdump_format.h -- the constants of the heap dump format, shared by the
 * writer (src/dump/heapdump.c) and the reader (tools/heapdump/hd_parse.c),
 * so the two cannot drift apart.  docs/heapdump-format.md is the
 * specification; this header only names its numbers.
 *
 * A dump is an 8-byte header ("TCHD", a little-endian u16 version, the
 * pointer size in bytes, a reserved zero byte) and then records: a tag
 * byte, the payload length as an unsigned LEB128 varint, the payload.  The
 * last record is HD_TAG_END, which holds the number of records before it
 * and a CRC-32 of every byte before its tag.
 */
#ifndef TC_DUMP_HEAPDUMP_FORMAT_H
#define TC_DUMP_HEAPDUMP_FORMAT_H

#define HD_MAGIC "TCHD"
#define HD_VERSION 1
#define HD_HEADER_SIZE 8
#define HD_PTR_SIZE 8

/* Record tags. */
enum hd_tag {
    HD_TAG_INFO = 1,             /* when, which process, the collector's phase */
    HD_TAG_STATS = 2,            /* tc_stats as (name, value) pairs */
    HD_TAG_STRING = 3,           /* an entry of the string table */
    HD_TAG_TYPE = 4,             /* a tc_type: name, element size, pointer layout */
    HD_TAG_OBJECT = 5,           /* an allocated object and its outgoing pointers */
    HD_TAG_THREAD = 6,           /* an attached thread */
    HD_TAG_ROOT = 7,             /* a root range and the objects its words point to */
    HD_TAG_FINALIZER = 8,        /* a finalizer set on an object (tc_set_finalizer) */
    HD_TAG_QUEUED_FINALIZER = 9, /* a finalizer whose object was found unreachable, waiting to run */
    HD_TAG_WEAK = 10,            /* a weak handle (tc_weak_new) and its object */
    HD_TAG_END = 127,            /* the record count and the checksum; always last */
};

/* How an object's outgoing pointers were found (OBJECT "scan"). */
enum hd_scan {
    HD_SCAN_NONE = 0,         /* noscan: holds no pointers the collector follows */
    HD_SCAN_OFFSETS = 1,      /* its type's pointer offsets, per array element */
    HD_SCAN_FUNCTION = 2,     /* its type's scan function; an edge's slot is the report's ordinal */
    HD_SCAN_CONSERVATIVE = 3, /* untyped (tc_alloc): every aligned word */
};

/* ROOT "kind". */
enum hd_root_kind {
    HD_ROOT_STACK = 1,      /* a thread's stack as scanned: [lo, hi), owner = thread id */
    HD_ROOT_REGISTERS = 2,  /* a thread's saved registers: lo = 0, hi = count, slot = register number */
    HD_ROOT_GLOBAL = 3,     /* a writable data segment of the program or a library */
    HD_ROOT_REGISTERED = 4, /* a range registered with tc_root_add */
};

/* THREAD "state" (where the thread was when the world stopped). */
enum hd_thread_state {
    HD_THREAD_RUNNING = 0,
    HD_THREAD_BLOCKING = 1, /* tc_blocking_begin, or waiting inside the runtime */
    HD_THREAD_PARKED = 2,   /* stopped at a safepoint */
    HD_THREAD_SUSPENDED = 3 /* stopped by the suspension signal */
};

#define HD_THREAD_FLAG_SELF 1u /* THREAD "flags": the thread that called tc_heap_dump */

/* INFO "phase": the collector's phase when the dump was taken. */
enum hd_phase { HD_PHASE_OFF = 0, HD_PHASE_MARK = 1, HD_PHASE_MARKTERM = 2 };

#endif
