/*
 * weak.h -- weak references: tc_weak_new and tc_weak_get.  See weak.c.
 */
#ifndef TC_GC_WEAK_H
#define TC_GC_WEAK_H

int weak_init(void); /* tc_init, after the type registry: 0 or TC_ENOMEM */

#endif
