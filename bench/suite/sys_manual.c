/*
 * sys_manual.c -- glibc malloc or mimalloc behind the suite's system
 * interface (sys.h): nothing to initialise, no threads to register, no
 * roots, no collections.  The result line prints their GC fields as `na`.
 */
#include "sys.h"

#include <string.h>

int sys_init(const char *mode) { return strcmp(mode, "default") == 0 ? 0 : -1; }

const char *sys_name(void)
{
#if defined(SYS_MIMALLOC)
    return "mimalloc";
#else
    return "malloc";
#endif
}

void sys_thread_begin(void) {}
void sys_thread_end(void) {}
void sys_wait_begin(void) {}
void sys_wait_end(void) {}
void sys_root_add(void *start, size_t size) { (void)start, (void)size; }
void sys_root_remove(void *start, size_t size) { (void)start, (void)size; }
void sys_collect(void) {}

void sys_finish(gc_report *out)
{
    memset(out, 0, sizeof *out);
}
