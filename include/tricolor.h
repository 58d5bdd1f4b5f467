/*
 * tricolor.h -- the public API of tricolor, a concurrent, non-moving,
 * garbage-collected heap for C, built the way the Go runtime builds its own.
 *
 * Every public name starts with tc_ or TC_.  The contract is docs/API.md in
 * the project's shared documents; this header adds to it, never changes it.
 *
 * Status of this version: the allocator, the concurrent tri-color
 * collector with its buffered write barrier, roots, types, object lookup,
 * heap walking and statistics.  Finalizers, weak references, the memory
 * limit and the tracer arrive in later versions and are declared then.
 */
#ifndef TRICOLOR_H
#define TRICOLOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TC_API __attribute__((visibility("default")))
#else
#define TC_API
#endif

/* ---- Errors ------------------------------------------------------------ */

#define TC_ENOMEM  (-1) /* memory could not be obtained from the OS */
#define TC_EINVAL  (-2) /* an argument or a TRICOLOR setting is malformed */
#define TC_EBUSY   (-3) /* the resource is already in use */
#define TC_ESTATE  (-4) /* the call is not valid in the current state */
#define TC_EIO     (-5) /* an I/O operation failed */

TC_API const char *tc_strerror(int code);

/* ---- Lifecycle --------------------------------------------------------- */

typedef struct tc_options {
    int     gc_percent;     /* heap growth target in percent (GOGC); default 100; < 0: no automatic GC */
    int64_t memory_limit;   /* soft limit on all memory the heap obtains, bytes; 0: none */
    int     stop_the_world; /* 1: whole cycles run with the world stopped */
    int     mark_workers;   /* upper bound on parallel mark threads; 0: from the number of CPUs */
} tc_options;

/* tc_init(opts): opts NULL means defaults.  Reads the TRICOLOR environment
 * variable (comma-separated key=value settings, which override opts) and
 * attaches the calling thread.  Returns 0, TC_EINVAL for a malformed
 * setting (named on stderr), TC_ESTATE if already initialised, TC_ENOMEM.
 * The macro passes the size of the caller's tc_options so that programs
 * built against an older header keep working with a newer library. */
TC_API int  tc_init_sized(const tc_options *opts, size_t opts_size);
TC_API int  tc_init(const tc_options *opts);
#define tc_init(opts) tc_init_sized((opts), sizeof(tc_options))

/* After every other thread detached: detaches the caller and returns all
 * memory to the OS.  tc_init may be called again afterwards. */
TC_API void tc_shutdown(void);

/* ---- Threads ----------------------------------------------------------- */

TC_API int  tc_thread_attach(void);  /* before a thread touches the heap; TC_EBUSY if attached */
TC_API void tc_thread_detach(void);  /* before it exits; gives its cached spans back */

/* A cheap poll: if the collector is stopping the world, wait here.
 * Allocation polls too.  A thread that never polls is suspended by a
 * signal after about a millisecond (TRICOLOR=signal=N picks the signal). */
TC_API void tc_safepoint(void);
#define tc_safepoint() \
    ((void)(__atomic_load_n(&tc__stw_requested, __ATOMIC_RELAXED) ? tc__safepoint_slow() : (void)0))

/* From tc_blocking_begin to tc_blocking_end the thread touches no GC
 * pointer (system calls, sleeps, long pure computation) and counts as
 * stopped: collections never wait for it.  Its stack up to the call of
 * tc_blocking_begin stays a root. */
TC_API void tc_blocking_begin(void);
TC_API void tc_blocking_end(void);

/* ---- Types and allocation ---------------------------------------------- */

typedef struct tc_type tc_type;

/* A type of `size` bytes whose pointer fields sit at the given byte
 * offsets.  Offsets must be multiples of sizeof(void *) and leave room for
 * a whole pointer inside `size`; otherwise (or for size 0) NULL.  Types
 * live until tc_shutdown. */
TC_API const tc_type *tc_type_new(const char *name, size_t size,
                                  const size_t *ptr_offsets, size_t n_ptrs);

/* For layouts offsets cannot describe (tagged or NaN-boxed values,
 * variable-length records): the collector calls scan, which reports each
 * pointer it decodes to mark. */
TC_API const tc_type *tc_type_new_scan(const char *name, size_t size,
                                       void (*scan)(const void *obj, size_t size,
                                                    void (*mark)(const void *ptr, void *ctx),
                                                    void *ctx));

/* TC_TYPE(struct_type, field, ...): a tc_type from a struct and the names
 * of its pointer fields (up to 32), e.g. TC_TYPE(struct node, left, right). */
#define TC_TYPE(T, ...)                                                        \
    tc_type_new(#T, sizeof(T),                                                 \
                (const size_t[]){TC__OFFSETS(T, __VA_ARGS__)},                 \
                sizeof((const size_t[]){TC__OFFSETS(T, __VA_ARGS__)}) / sizeof(size_t))

TC_API void *tc_new(const tc_type *t);                 /* one object, precisely scanned */
TC_API void *tc_new_array(const tc_type *t, size_t n); /* n elements of t; NULL if n * size overflows */
TC_API void *tc_alloc(size_t size);                    /* scanned conservatively */
TC_API void *tc_alloc_noscan(size_t size);             /* holds no GC pointers: never scanned */

TC_API void          *tc_base(const void *p);    /* start of the object holding p; NULL outside the heap or for a free slot */
TC_API size_t         tc_size(const void *p);    /* usable size of that object; 0 outside the heap */
TC_API const tc_type *tc_type_of(const void *p); /* its type; NULL for tc_alloc / tc_alloc_noscan objects */

TC_API const char *tc_type_name(const tc_type *t); /* the name given to tc_type_new */

/* ---- The write barrier ---------------------------------------------------- */

/* Every store of a GC pointer into a heap object or a registered root goes
 * through the barrier; stores into locals need none.  With the collector
 * idle, tc_store is a load of the enabled flag, a predictable branch and
 * the store.  While marking it appends the slot's old value and the new
 * value to the thread's buffer and calls out only when the buffer is full. */
static inline void tc_store(void *slot, const void *value);
#define TC_STORE(lvalue, value) \
    (tc_store((void *)&(lvalue), (const void *)(value)), (void)sizeof((lvalue) = (value)))
TC_API void tc_memmove(void *dst, const void *src, size_t n); /* bulk copy of pointer-holding memory */
TC_API int  tc_cas(void *slot, const void *expected, const void *desired); /* 1 if swapped */

/* ---- Roots ----------------------------------------------------------------- */

/* [start, start + size) is scanned conservatively every cycle.  Stores of
 * heap pointers into it must use the barrier.  TC_EBUSY if start is
 * registered already, TC_EINVAL for a NULL or empty range. */
TC_API int tc_root_add(void *start, size_t size);
TC_API int tc_root_remove(void *start); /* TC_EINVAL if not registered */

/* ---- Collection ------------------------------------------------------------ */

TC_API void tc_collect(void);               /* a full cycle; returns when marking and sweeping are done */
TC_API int  tc_set_gc_percent(int percent); /* returns the previous value */
/* Soft limit on memory_total (see tc_stats), bytes; 0 turns it off.
 * Returns the previous value; a negative argument only reads it. */
TC_API int64_t tc_set_memory_limit(int64_t bytes);

/* ---- Finalizers and weak references -------------------------------------- */

/* After obj becomes unreachable, fn(obj, arg) runs once on the finalizer
 * thread, with obj and everything it references kept alive until fn
 * returns; they are freed in a later cycle unless fn made obj reachable
 * again.  obj must be the start of a heap object (TC_EINVAL otherwise: an
 * interior or foreign pointer); fn NULL removes obj's finalizer; setting a
 * second one replaces the first.  If A references B and both have
 * finalizers, A's runs first and B's in a later cycle; objects on a cycle
 * of references through a finalizable object are never collected. */
TC_API int tc_set_finalizer(void *obj, void (*fn)(void *obj, void *arg), void *arg);

/* A weak handle for obj (a heap object, itself collected when unused);
 * the same handle for the same object every time.  NULL for a foreign
 * pointer or when out of memory. */
TC_API void *tc_weak_new(void *obj);
/* The handle's object while it is alive; NULL from the moment the
 * collector found it unreachable.  Never a dangling pointer. */
TC_API void *tc_weak_get(const void *weak);

/* ---- Heap introspection ------------------------------------------------ */

/* Calls fn for every allocated object.  fn may allocate; objects allocated
 * while the walk runs may or may not be visited. */
TC_API void tc_heap_walk(void (*fn)(void *obj, size_t size, const tc_type *t, void *arg), void *arg);

/* Writes a heap dump to fd (docs/heapdump-format.md; read it with
 * tricolor-heapdump): every object with its size, type name and outgoing
 * pointers, the roots by kind (thread stacks and registers, global data,
 * tc_root_add ranges), finalizers, weak handles and the statistics.  The
 * snapshot is taken with the world stopped after sweeping finished; dead
 * objects not yet collected are included (tc_collect first for live ones
 * only).  Returns 0, TC_EIO if a write failed, TC_ESTATE from a thread
 * that is not attached (or inside tc_blocking_begin), TC_EINVAL for a
 * negative fd, TC_ENOMEM. */
TC_API int tc_heap_dump(int fd);

/* ---- Statistics -------------------------------------------------------- */

typedef struct tc_stats {
    uint64_t heap_alloc, heap_objects, heap_inuse, heap_idle, heap_released, heap_sys;
    uint64_t total_alloc, mallocs, frees;      /* cumulative */
    uint64_t sys, gc_sys, other_sys;           /* everything obtained from the OS; GC metadata; other off-heap */
    uint64_t next_gc;                          /* heap goal of the current cycle */
    uint64_t last_gc_ns;                       /* wall-clock end of the last cycle, ns since the epoch */
    uint64_t pause_total_ns, pause_max_ns;     /* all stop-the-world time; the longest single stop */
    uint64_t pause_ns[256], pause_end_ns[256]; /* per cycle, circular: the latest at [(num_gc + 255) % 256] */
    uint32_t num_gc, num_forced_gc;
    double   gc_cpu_fraction;                  /* share of CPU time spent in GC since init */
    /* Since the first release (tc_read_stats_sized gives older callers
     * only the fields they know): */
    uint64_t finalizers_queued, finalizers_run; /* cumulative: found unreachable; called */
    uint64_t weak_handles;                     /* weak handles whose objects are alive */
    uint64_t memory_limit;                     /* the soft limit in force; 0: none */
    uint64_t memory_total;                     /* what the limit is compared with: all memory obtained from the OS minus what was given back */
    uint64_t released_total;                   /* cumulative bytes given back to the OS */
    uint64_t limiter_ns;                       /* cumulative time the GC CPU limiter held GC work back */
    uint32_t limit_exceeded_cycles;            /* cycles that ended with memory_total above the limit */
    uint32_t reserved_;
} tc_stats;

TC_API void tc_read_stats_sized(tc_stats *out, size_t out_size);
TC_API void tc_read_stats(tc_stats *out);
#define tc_read_stats(out) tc_read_stats_sized((out), sizeof(tc_stats))

/* ---- Execution tracer (docs/trace-format.md) ------------------------------ */

/* Starts tracing into off-heap buffers that a reader drains with
 * tc_trace_read: its first chunk is the header, its last the footer, then
 * NULL.  One reader at a time; each call recycles the chunk returned by
 * the previous one.  tc_trace_stop returns once the reader has read
 * everything (TC_ESTATE if no trace runs).  tc_trace_start_file runs the
 * reader itself, writing to path (TC_EIO if it cannot be opened; then
 * tc_trace_stop returns TC_EIO if a write failed).  TC_EBUSY while a trace
 * runs.  TRICOLOR=trace=FILE traces from tc_init to exit. */
TC_API int         tc_trace_start(void);
TC_API int         tc_trace_stop(void);
TC_API const void *tc_trace_read(size_t *len);
TC_API int         tc_trace_start_file(const char *path);
/* Annotations: tasks (may end on another thread), regions (nest on one
 * thread) and log messages.  Cheap no-ops while not tracing. */
TC_API uint64_t tc_trace_task_begin(const char *name);
TC_API void     tc_trace_task_end(uint64_t task);
TC_API void     tc_trace_region_begin(const char *name);
TC_API void     tc_trace_region_end(const char *name);
TC_API void     tc_trace_log(const char *category, const char *message);

/* ---- Internals of the inline fast paths (not for direct use) -------------- */

typedef struct tc__wbuf {
    void **next;    /* next free entry */
    void **end;     /* one past the last; next == end means full */
} tc__wbuf;
TC_API extern __thread tc__wbuf *tc__wbuf_cur __attribute__((tls_model("initial-exec")));
TC_API extern int tc__wb_enabled;       /* nonzero while the collector marks */
TC_API extern int tc__stw_requested;    /* nonzero while the world is being stopped */
TC_API void tc__wb_slow(void *slot, const void *value);
TC_API void tc__safepoint_slow(void);

static inline void tc_store(void *slot, const void *value)
{
    if (__builtin_expect(__atomic_load_n(&tc__wb_enabled, __ATOMIC_RELAXED) != 0, 0)) {
        tc__wbuf *b = tc__wbuf_cur;
        void **p = b->next;
        if (__builtin_expect(b->end - p < 2, 0)) {
            tc__wb_slow(slot, value);
            return;
        }
        p[0] = *(void **)slot;
        p[1] = (void *)value;
        b->next = p + 2;
    }
    *(void **)slot = (void *)value;
}

/* ---- Internals of the TC_TYPE macro -------------------------------------- */

#define TC__OFF(T, f) offsetof(T, f)
#define TC__N(_1,_2,_3,_4,_5,_6,_7,_8,_9,_10,_11,_12,_13,_14,_15,_16,_17,_18,_19,_20,  \
              _21,_22,_23,_24,_25,_26,_27,_28,_29,_30,_31,_32,N,...) N
#define TC__COUNT(...) TC__N(__VA_ARGS__,32,31,30,29,28,27,26,25,24,23,22,21,20,19,18,17, \
                             16,15,14,13,12,11,10,9,8,7,6,5,4,3,2,1,0)
#define TC__CAT2(a, b) a##b
#define TC__CAT(a, b) TC__CAT2(a, b)
#define TC__OFFSETS(T, ...) TC__CAT(TC__O, TC__COUNT(__VA_ARGS__))(T, __VA_ARGS__)
#define TC__O1(T, a) TC__OFF(T, a)
#define TC__O2(T, a, ...) TC__OFF(T, a), TC__O1(T, __VA_ARGS__)
#define TC__O3(T, a, ...) TC__OFF(T, a), TC__O2(T, __VA_ARGS__)
#define TC__O4(T, a, ...) TC__OFF(T, a), TC__O3(T, __VA_ARGS__)
#define TC__O5(T, a, ...) TC__OFF(T, a), TC__O4(T, __VA_ARGS__)
#define TC__O6(T, a, ...) TC__OFF(T, a), TC__O5(T, __VA_ARGS__)
#define TC__O7(T, a, ...) TC__OFF(T, a), TC__O6(T, __VA_ARGS__)
#define TC__O8(T, a, ...) TC__OFF(T, a), TC__O7(T, __VA_ARGS__)
#define TC__O9(T, a, ...) TC__OFF(T, a), TC__O8(T, __VA_ARGS__)
#define TC__O10(T, a, ...) TC__OFF(T, a), TC__O9(T, __VA_ARGS__)
#define TC__O11(T, a, ...) TC__OFF(T, a), TC__O10(T, __VA_ARGS__)
#define TC__O12(T, a, ...) TC__OFF(T, a), TC__O11(T, __VA_ARGS__)
#define TC__O13(T, a, ...) TC__OFF(T, a), TC__O12(T, __VA_ARGS__)
#define TC__O14(T, a, ...) TC__OFF(T, a), TC__O13(T, __VA_ARGS__)
#define TC__O15(T, a, ...) TC__OFF(T, a), TC__O14(T, __VA_ARGS__)
#define TC__O16(T, a, ...) TC__OFF(T, a), TC__O15(T, __VA_ARGS__)
#define TC__O17(T, a, ...) TC__OFF(T, a), TC__O16(T, __VA_ARGS__)
#define TC__O18(T, a, ...) TC__OFF(T, a), TC__O17(T, __VA_ARGS__)
#define TC__O19(T, a, ...) TC__OFF(T, a), TC__O18(T, __VA_ARGS__)
#define TC__O20(T, a, ...) TC__OFF(T, a), TC__O19(T, __VA_ARGS__)
#define TC__O21(T, a, ...) TC__OFF(T, a), TC__O20(T, __VA_ARGS__)
#define TC__O22(T, a, ...) TC__OFF(T, a), TC__O21(T, __VA_ARGS__)
#define TC__O23(T, a, ...) TC__OFF(T, a), TC__O22(T, __VA_ARGS__)
#define TC__O24(T, a, ...) TC__OFF(T, a), TC__O23(T, __VA_ARGS__)
#define TC__O25(T, a, ...) TC__OFF(T, a), TC__O24(T, __VA_ARGS__)
#define TC__O26(T, a, ...) TC__OFF(T, a), TC__O25(T, __VA_ARGS__)
#define TC__O27(T, a, ...) TC__OFF(T, a), TC__O26(T, __VA_ARGS__)
#define TC__O28(T, a, ...) TC__OFF(T, a), TC__O27(T, __VA_ARGS__)
#define TC__O29(T, a, ...) TC__OFF(T, a), TC__O28(T, __VA_ARGS__)
#define TC__O30(T, a, ...) TC__OFF(T, a), TC__O29(T, __VA_ARGS__)
#define TC__O31(T, a, ...) TC__OFF(T, a), TC__O30(T, __VA_ARGS__)
#define TC__O32(T, a, ...) TC__OFF(T, a), TC__O31(T, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* TRICOLOR_H */
