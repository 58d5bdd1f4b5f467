/*
 * roots.h -- what marking starts from.  See roots.c.
 */
#ifndef TC_GC_ROOTS_H
#define TC_GC_ROOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workbuf.h"

void roots_init(void);
void roots_free_all(void);

/* Before a cycle, with the world running: finds the writable segments
 * (data, bss) of the executable and every loaded library. */
void roots_find_globals(void);

/* With the world stopped: scans every attached thread's stack and saved
 * registers and the global segments.  Returns the bytes scanned. */
size_t roots_scan_stw(gcwork *gw);

/* Scans the ranges registered with tc_root_add (concurrently; they are
 * barriered).  Returns the bytes scanned. */
size_t roots_scan_registered(gcwork *gw);

/* Whether [p, p + 8) lies in a registered root, a global segment or an
 * attached thread's stack (checkptr). */
bool roots_contains(uintptr_t p);

/* Calls fn(lo, hi, what, arg) for each global segment and registered root
 * (checkmark). */
void roots_for_each_global(void (*fn)(uintptr_t lo, uintptr_t hi, const char *what, void *arg), void *arg);

/* Calls fn(kind, lo, hi, arg) for each global segment, then each
 * registered range, all under roots_lock (fn takes no lock of rank
 * LOCK_RANK_ROOTS or lower).  For heap dumps. */
typedef enum root_range_kind { ROOT_RANGE_GLOBAL, ROOT_RANGE_REGISTERED } root_range_kind;
void roots_for_each_range(void (*fn)(root_range_kind kind, uintptr_t lo, uintptr_t hi, void *arg),
                          void *arg);

#endif
