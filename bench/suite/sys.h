/*
 * sys.h -- the memory manager under test, as the workloads see it.
 *
 * Every workload (gcbench.c, binarytrees.c, latency.c) is one source file
 * compiled once per system, with exactly one of SYS_TRICOLOR, SYS_BDWGC,
 * SYS_MALLOC or SYS_MIMALLOC defined, so the algorithm is the same code for
 * all of them.  This header must be the first one a workload includes:
 * bdwgc's <gc.h> has to come before <pthread.h> so that pthread_create
 * registers new threads with the collector.
 *
 * The fast paths are inline, in the system's own header:
 *
 *   sys_type              what sys_new needs to make an object of a type
 *   SYS_TYPE(T, f, ...)   the sys_type of struct T whose pointer fields are f, ...
 *   sys_new(t)            one object of type t, scanned precisely where the
 *                         system can (tricolor), conservatively (bdwgc), or
 *                         not at all (malloc): its fields are all written by
 *                         the workload, never read before
 *   sys_alloc_noscan(n)   n bytes that hold no heap pointers
 *   SYS_STORE(lv, v)      lv = v for a heap pointer v stored into a heap
 *                         object or a registered root: tricolor's write barrier
 *   SYS_MANUAL_FREE       1 when the workload must free what it drops
 *   sys_free(p)           free p (malloc, mimalloc); nothing for collectors
 *
 * and the rest is in sys_<system>.c:
 *
 *   sys_init(mode)        initialise; mode selects a configuration (bdwgc:
 *                         "default", "par", "incr"; the others only
 *                         "default"); 0, or -1 for a mode the system lacks
 *   sys_name()            the configuration's name, e.g. "bdwgc-par", "tricolor-stw"
 *   sys_thread_begin/end  around the life of a worker thread (tricolor attaches)
 *   sys_wait_begin/end    around a wait that touches no heap object (pthread_join)
 *   sys_root_add/remove   a malloc'd table that holds heap pointers
 *   sys_collect()         a full collection now (nothing for malloc)
 *   sys_finish(out)       stop sampling; the collection count and pauses
 */
#ifndef SUITE_SYS_H
#define SUITE_SYS_H

#if defined(SYS_TRICOLOR)
#include "sys_tricolor.h"
#elif defined(SYS_BDWGC)
#include "sys_bdwgc.h"
#elif defined(SYS_MALLOC) || defined(SYS_MIMALLOC)
#include "sys_manual.h"
#else
#error "define one of SYS_TRICOLOR, SYS_BDWGC, SYS_MALLOC, SYS_MIMALLOC"
#endif

#include <pthread.h>
#include <stddef.h>

#include "suite.h"

int sys_init(const char *mode);
const char *sys_name(void);
void sys_thread_begin(void);
void sys_thread_end(void);
void sys_wait_begin(void);
void sys_wait_end(void);
void sys_root_add(void *start, size_t size);
void sys_root_remove(void *start, size_t size);
void sys_collect(void);
void sys_finish(gc_report *out);

#endif /* SUITE_SYS_H */
