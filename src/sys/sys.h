/*
 * sys.h -- the contract between tricolor and the operating system's memory.
 *
 * Address space moves through four states, as in the Go runtime (mem.go):
 *
 *   None      not ours.
 *   Reserved  ours, faults on access, costs no memory      (sys_reserve)
 *   Prepared  mapped read-write but possibly not backed     (sys_map, sys_unused)
 *   Ready     mapped and usable                            (sys_alloc, sys_used)
 *
 * Every byte mapped (Prepared or Ready) is charged to exactly one statistic,
 * named by the caller: the heap, GC metadata, or other runtime metadata.
 * Their sum is everything tricolor holds from the OS (tc_stats.sys).
 *
 * Contract for every function: addresses and sizes are multiples of
 * SYS_PAGE_SIZE; memory that arrives in the Ready state from sys_alloc or
 * sys_map is zero; memory passed through sys_unused reads as zero when next
 * touched (MADV_DONTNEED).  Functions that can fail return NULL or -1 and
 * change nothing.
 *
 * Tests may make the Nth future mapping fail (sys_fail_after) to drive
 * every out-of-memory path.
 */
#ifndef TC_SYS_SYS_H
#define TC_SYS_SYS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SYS_PAGE_SIZE 4096

typedef enum memstat_kind {
    MEMSTAT_HEAP,  /* heap arenas mapped for objects (tc_stats.heap_sys) */
    MEMSTAT_GC,    /* GC metadata: arena metadata, span bits, page summaries (gc_sys) */
    MEMSTAT_OTHER, /* other runtime records: spans, caches, types, lists (other_sys) */
    MEMSTAT_COUNT
} memstat_kind;

/* Bytes currently mapped per statistic.  atomic, relaxed. */
extern _Atomic uint64_t memstat[MEMSTAT_COUNT];

static inline void memstat_add(memstat_kind k, int64_t delta)
{
    atomic_fetch_add_explicit(&memstat[k], (uint64_t)delta, memory_order_relaxed);
}
static inline uint64_t memstat_get(memstat_kind k)
{
    return atomic_load_explicit(&memstat[k], memory_order_relaxed);
}

void *sys_alloc(size_t size, memstat_kind stat);           /* None -> Ready, zeroed */
void  sys_free(void *p, size_t size, memstat_kind stat);   /* any -> None */
void *sys_reserve(void *hint, size_t size);                /* None -> Reserved; may ignore hint */
void  sys_release(void *p, size_t size);                   /* Reserved -> None (not counted) */
int   sys_map(void *p, size_t size, memstat_kind stat);    /* Reserved -> Prepared, zero when touched */
void  sys_unmap(void *p, size_t size, memstat_kind stat);  /* Prepared/Ready -> Reserved */
void  sys_unused(void *p, size_t size);                    /* Ready -> Prepared; stays counted */
void  sys_used(void *p, size_t size);                      /* Prepared -> Ready */

/* Test hook: the nth mapping call from now (1 = the next) fails, and every
 * later one too if `sticky`; n = 0 disarms. */
void sys_fail_after(long n, int sticky);

int sys_ncpu(void); /* online CPUs, read at the first call */
uint64_t sys_physical_memory(void); /* bytes of RAM, 0 if unknown */

/* ---- Time, waiting, threads and signals ---------------------------------- */

uint64_t sys_nanotime(void);   /* monotonic clock, ns */
uint64_t sys_walltime(void);   /* ns since the epoch */
uint64_t sys_thread_cputime(void); /* CPU time of the calling thread, ns */
uint64_t sys_process_cputime(void); /* CPU time of every thread of the process, ns */

/* Futex-style waiting on a 32-bit word: sleeps while *addr == val (or
 * until woken or timeout_ns, 0 = forever).  Both are async-signal-safe. */
void sys_wait(_Atomic uint32_t *addr, uint32_t val, uint64_t timeout_ns);
void sys_wake_all(_Atomic uint32_t *addr);

/* The calling thread's stack: [*lo, *hi), hi being the base (stacks grow
 * down).  Returns -1 if unknown. */
int sys_thread_stack(uintptr_t *lo, uintptr_t *hi);

/* The calling thread's static thread-local storage: one block per loaded
 * module that has a PT_TLS segment, as [ranges[i][0], ranges[i][1]).
 * Writes at most max ranges and returns how many there are.  Blocks a
 * module allocates lazily (dynamic TLS of a library dlopen'ed later) are
 * not included. */
size_t sys_thread_tls(uintptr_t (*ranges)[2], size_t max);

/* Registers of an interrupted thread from a signal handler's ucontext:
 * copies up to max general registers into out, sets *sp to its stack
 * pointer less the red zone, returns how many were copied. */
size_t sys_ucontext_regs(const void *ucontext, uintptr_t *out, size_t max, uintptr_t *sp);

/* Installs handler for signo (SA_SIGINFO | SA_RESTART, all signals but
 * signo itself left unblocked).  Returns -1 if the signal is unusable. */
uintptr_t sys_ucontext_pc(const void *ucontext);
int sys_signal_install(int signo, void (*handler)(int, void *info, void *ucontext));
int sys_signal_send(pthread_t thread, int signo);  /* 0 or -1 */

#endif
