/*
 * sys_tricolor.h -- the inline half of the tricolor system (see sys.h):
 * typed objects from tc_new, pointer-free memory from tc_alloc_noscan,
 * and every store of a heap pointer into a heap object or a registered
 * root through the write barrier (TC_STORE).  Only the public header.
 */
#ifndef SUITE_SYS_TRICOLOR_H
#define SUITE_SYS_TRICOLOR_H

#include <tricolor.h>

#define SYS_MANUAL_FREE 0

typedef const tc_type *sys_type;

#define SYS_TYPE(T, ...) TC_TYPE(T, __VA_ARGS__)
#define SYS_STORE(lvalue, value) TC_STORE(lvalue, value)

static inline void *sys_new(sys_type t) { return tc_new(t); }
static inline void *sys_alloc_noscan(size_t n) { return tc_alloc_noscan(n); }
static inline void sys_free(void *p) { (void)p; }

#endif /* SUITE_SYS_TRICOLOR_H */
