/*
 * bench/alloc.c -- allocation cost of tricolor against glibc malloc and
 * mimalloc.
 *
 * What is measured: nanoseconds per allocation for a fixed set of object
 * sizes (16 B .. 100 KiB), with 1 and with 2 threads allocating at once,
 * for the three allocators side by side in one run.
 *
 * Why "allocate and retain": with collection off (gc_percent = -1)
 * tricolor cannot free anything, so a malloc/free loop has no tricolor
 * counterpart.  Every system therefore runs the same pattern: each thread
 * allocates objects of one size until it has allocated a fixed byte
 * budget, keeps every pointer in a preallocated, already faulted-in array
 * and writes one byte into each object (p[0] = 1), so that all three touch
 * their memory the same way.  Only that loop is timed.
 *
 * Why a fresh process per measurement: a tricolor heap without a collector
 * never reuses memory, so every tricolor object lands on pages the kernel
 * must fault in.  If malloc and mimalloc freed their objects and ran the
 * next measurement in the same process, they would mostly reuse pages
 * already faulted in, and the comparison would be page faults against no
 * page faults rather than allocator against allocator.  So each
 * measurement runs in a forked child: every system starts from an empty
 * heap, obtains and touches fresh memory, and nothing is freed -- the
 * child's exit returns it all.  The child calls tc_init once (tricolor
 * only), so retained memory never exceeds one measurement's worth.
 *
 * Timing: worker threads start together at a pthread barrier; the wall
 * time runs from the earliest start to the latest finish, and the figure
 * reported is the per-thread cost wall_ns * nthreads / total_allocs.  Each
 * (system, size, threads) cell is measured REPS times, with the systems
 * interleaved inside every repetition (repetition, then size, then thread
 * count, then system, the starting system rotated per repetition), and the
 * median is reported.
 */

#include <errno.h>
#include <gnu/libc-version.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include <dlfcn.h>
#include <tricolor.h>

#include "bench.h"

/* mimalloc is loaded with dlopen(RTLD_LOCAL) rather than linked: Debian's
 * libmimalloc also defines malloc and __libc_malloc, so linking it would
 * silently replace glibc's allocator in the "malloc" column. */
#define MIMALLOC_SONAME "libmimalloc.so.2"
static void *(*mi_malloc)(size_t size);
static int (*mi_version)(void);

static void mimalloc_load(void)
{
    void *h = dlopen(MIMALLOC_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "alloc: cannot load %s (install libmimalloc2.0): %s\n", MIMALLOC_SONAME,
                dlerror());
        exit(1);
    }
    *(void **)&mi_malloc = dlsym(h, "mi_malloc");
    *(void **)&mi_version = dlsym(h, "mi_version");
    if (mi_malloc == NULL || mi_version == NULL) {
        fprintf(stderr, "alloc: %s lacks mi_malloc or mi_version\n", MIMALLOC_SONAME);
        exit(1);
    }
}

/* ---- Parameters -------------------------------------------------------- */

#define DEFAULT_BUDGET_MIB 64
#define DEFAULT_REPS       5
#define QUICK_BUDGET_MIB   4
#define QUICK_REPS         3
#define MAX_BUDGET_MIB     4096
#define MAX_REPS           1000
#define MAX_THREADS        2

static const size_t sizes[] = {16, 64, 256, 1024, 4096, 32768, 102400};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define SMALL_SIZE_MAX 1024 /* the geometric mean covers sizes up to this */

static const int thread_counts[] = {1, 2};
#define NTHREADCFG (sizeof thread_counts / sizeof thread_counts[0])

enum system { SYS_TRICOLOR, SYS_MALLOC, SYS_MIMALLOC, NSYS };
static const char *const system_names[NSYS] = {"tricolor", "malloc", "mimalloc"};

struct params {
    size_t budget_mib; /* bytes each thread allocates per measurement, MiB */
    int    reps;
    int    one_system; /* --one: -1 for the full table, else the system to run */
    size_t one_size;   /* --one: the object size */
};

/* ---- Small helpers ----------------------------------------------------- */

static int in_child; /* set in a measurement child, which ends with _exit */

static _Noreturn void die(const char *what, const char *detail)
{
    if (detail != NULL)
        fprintf(stderr, "alloc: %s: %s\n", what, detail);
    else
        fprintf(stderr, "alloc: %s\n", what);
    if (in_child)
        _exit(1);
    exit(1);
}

static const char *size_label(size_t size, char *buf, size_t len)
{
    if (size >= 1024 && size % 1024 == 0)
        snprintf(buf, len, "%zu KiB", size / 1024);
    else
        snprintf(buf, len, "%zu B", size);
    return buf;
}

/* Geometric mean of n positive values: the n-th root of their product,
 * found by bisection (keeps the program free of libm). */
static double geomean(const double *v, int n)
{
    double prod = 1.0, lo, hi;

    for (int i = 0; i < n; i++)
        prod *= v[i];
    lo = prod < 1.0 ? prod : 1.0;
    hi = prod < 1.0 ? 1.0 : prod;
    for (int iter = 0; iter < 200; iter++) {
        double mid = (lo + hi) / 2.0, pw = 1.0;
        for (int i = 0; i < n; i++)
            pw *= mid;
        if (pw < prod)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2.0;
}

/* ---- Command line ------------------------------------------------------ */

static _Noreturn void usage(FILE *out, int status)
{
    fprintf(out,
            "usage: alloc [--quick] [--budget-mib N] [--reps N] [--one SYSTEM SIZE]\n"
            "  --quick         budget %d MiB, %d reps (smoke test)\n"
            "  --budget-mib N  bytes each thread allocates per measurement, in MiB\n"
            "                  (1..%d, default %d)\n"
            "  --reps N        repetitions per measurement; the median is reported\n"
            "                  (1..%d, default %d)\n"
            "  --one SYSTEM SIZE  one measurement in this process, one thread, no\n"
            "                  table (tricolor, malloc or mimalloc; SIZE in bytes):\n"
            "                  for bench/alloc_instructions.sh under callgrind\n",
            QUICK_BUDGET_MIB, QUICK_REPS, MAX_BUDGET_MIB, DEFAULT_BUDGET_MIB,
            MAX_REPS, DEFAULT_REPS);
    exit(status);
}

static long parse_count(const char *opt, const char *arg, long max)
{
    char *end;
    long v;

    if (arg == NULL) {
        fprintf(stderr, "alloc: %s needs a value\n", opt);
        usage(stderr, 2);
    }
    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < 1 || v > max) {
        fprintf(stderr, "alloc: %s: '%s' is not an integer in 1..%ld\n", opt, arg, max);
        usage(stderr, 2);
    }
    return v;
}

/* Explicit --budget-mib / --reps win over --quick, whatever the order. */
static struct params parse_args(int argc, char **argv)
{
    struct params p = {DEFAULT_BUDGET_MIB, DEFAULT_REPS, -1, 0};
    long budget = 0, reps = 0;
    int quick = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) {
            quick = 1;
        } else if (strcmp(a, "--budget-mib") == 0) {
            budget = parse_count(a, argv[i + 1], MAX_BUDGET_MIB);
            i++;
        } else if (strcmp(a, "--reps") == 0) {
            reps = parse_count(a, argv[i + 1], MAX_REPS);
            i++;
        } else if (strcmp(a, "--one") == 0) {
            if (i + 2 >= argc) {
                fprintf(stderr, "alloc: --one needs a system and a size\n");
                usage(stderr, 2);
            }
            for (int y = 0; y < NSYS; y++)
                if (strcmp(argv[i + 1], system_names[y]) == 0)
                    p.one_system = y;
            if (p.one_system < 0) {
                fprintf(stderr, "alloc: --one: unknown system '%s'\n", argv[i + 1]);
                usage(stderr, 2);
            }
            p.one_size = (size_t)parse_count(a, argv[i + 2], 1L << 30);
            i += 2;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, 0);
        } else {
            fprintf(stderr, "alloc: unknown argument '%s'\n", a);
            usage(stderr, 2);
        }
    }
    if (quick) {
        p.budget_mib = QUICK_BUDGET_MIB;
        p.reps = QUICK_REPS;
    }
    if (budget)
        p.budget_mib = (size_t)budget;
    if (reps)
        p.reps = (int)reps;
    return p;
}

/* ---- Worker threads (run inside the measurement child) ----------------- */

struct worker {
    _Alignas(64) enum system system;
    int                index;   /* 0 .. nthreads-1 */
    size_t             size;    /* object size */
    size_t             count;   /* objects to allocate */
    void             **slots;   /* preallocated, faulted-in pointer array */
    pthread_barrier_t *start;   /* releases the timed loops together */
    pthread_barrier_t *stop;    /* nobody detaches before everyone is done */
    uint64_t           t_start, t_end;
};

static _Noreturn void alloc_failed(const struct worker *w, size_t i)
{
    fprintf(stderr, "alloc: %s allocation of %zu bytes returned NULL "
            "(object %zu of %zu, thread %d)\n",
            system_names[w->system], w->size, i + 1, w->count, w->index);
    _exit(1);
}

/* The timed loop, written out once per system so that each calls its
 * allocator directly (no indirect call in the loop). */
#define ALLOC_LOOP(ALLOC_CALL)                                                 \
    do {                                                                       \
        for (size_t i = 0; i < n; i++) {                                       \
            unsigned char *p = (ALLOC_CALL);                                   \
            if (p == NULL)                                                     \
                alloc_failed(w, i);                                            \
            p[0] = 1;                                                          \
            slots[i] = p;                                                      \
        }                                                                      \
    } while (0)

/* noinline: bench/alloc_instructions.sh counts the instructions executed
 * inside this function with callgrind's --toggle-collect. */
__attribute__((noinline)) static void alloc_loop(const struct worker *w)
{
    void **slots = w->slots;
    size_t n = w->count, size = w->size;

    switch (w->system) {
    case SYS_TRICOLOR: ALLOC_LOOP(tc_alloc_noscan(size)); break;
    case SYS_MALLOC:   ALLOC_LOOP(malloc(size));          break;
    case SYS_MIMALLOC: ALLOC_LOOP(mi_malloc(size));       break;
    case NSYS:         break;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    if (w->system == SYS_TRICOLOR) {
        int rc = tc_thread_attach();
        if (rc != 0) {
            fprintf(stderr, "alloc: tc_thread_attach: %s\n", tc_strerror(rc));
            _exit(1);
        }
    }
    pthread_barrier_wait(w->start);
    w->t_start = now_ns();
    alloc_loop(w);
    w->t_end = now_ns();
    pthread_barrier_wait(w->stop);

    /* Nothing is freed: the objects are retained until the child exits. */
    if (w->system == SYS_TRICOLOR)
        tc_thread_detach();
    return NULL;
}

/* ---- One measurement --------------------------------------------------- */

/* In the child: runs the measurement and returns ns/alloc as
 * wall_ns * nthreads / total_allocs.  Errors end the child with status 1. */
static double run_measurement(enum system sys, size_t size, int nthreads,
                              size_t budget_bytes)
{
    struct worker     workers[MAX_THREADS];
    pthread_t         tids[MAX_THREADS];
    pthread_barrier_t start, stop;
    size_t            count = budget_bytes / size;
    uint64_t          first = UINT64_MAX, last = 0;
    int               rc;

    if (count == 0)
        count = 1;

    if (sys == SYS_TRICOLOR) {
        tc_options opts;
        memset(&opts, 0, sizeof opts);
        opts.gc_percent = -1; /* collection off */
        rc = tc_init(&opts);  /* also attaches this (idle) thread */
        if (rc != 0)
            die("tc_init", tc_strerror(rc));
    }

    if (pthread_barrier_init(&start, NULL, (unsigned)nthreads) != 0 ||
        pthread_barrier_init(&stop, NULL, (unsigned)nthreads) != 0)
        die("pthread_barrier_init failed", NULL);

    for (int t = 0; t < nthreads; t++) {
        /* The pointer array: plain mmap, touched now so the timed loop
         * never faults on it. */
        size_t bytes = count * sizeof(void *);
        void  *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            die("mmap of the pointer array failed", strerror(errno));
        memset(m, 0xa5, bytes);

        workers[t] = (struct worker){
            .system = sys, .index = t, .size = size, .count = count,
            .slots = m, .start = &start, .stop = &stop,
        };
    }
    for (int t = 0; t < nthreads; t++) {
        rc = pthread_create(&tids[t], NULL, worker_main, &workers[t]);
        if (rc != 0)
            die("pthread_create", strerror(rc));
    }
    for (int t = 0; t < nthreads; t++) {
        rc = pthread_join(tids[t], NULL);
        if (rc != 0)
            die("pthread_join", strerror(rc));
        if (workers[t].t_start < first)
            first = workers[t].t_start;
        if (workers[t].t_end > last)
            last = workers[t].t_end;
    }
    return (double)(last - first) * nthreads / ((double)count * nthreads);
}

/* In the parent: forks a child for one measurement and collects its
 * result.  A failed child has already said why; the parent exits 1. */
static double measure(enum system sys, size_t size, int nthreads, size_t budget_bytes)
{
    int    fds[2], status;
    double ns = 0.0;
    pid_t  pid;

    if (pipe(fds) != 0)
        die("pipe", strerror(errno));
    fflush(NULL); /* the child must not inherit unwritten output */
    pid = fork();
    if (pid < 0)
        die("fork", strerror(errno));
    if (pid == 0) {
        in_child = 1;
        close(fds[0]);
        ns = run_measurement(sys, size, nthreads, budget_bytes);
        if (write(fds[1], &ns, sizeof ns) != (ssize_t)sizeof ns)
            _exit(1);
        _exit(0);
    }

    close(fds[1]);
    ssize_t got = read(fds[0], &ns, sizeof ns);
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof ns) {
        char label[32];
        fprintf(stderr, "alloc: the %s measurement (%s, %d thread%s) failed",
                system_names[sys], size_label(size, label, sizeof label),
                nthreads, nthreads == 1 ? "" : "s");
        if (WIFSIGNALED(status))
            fprintf(stderr, " with signal %d", WTERMSIG(status));
        fprintf(stderr, "\n");
        exit(1);
    }
    return ns;
}

/* ---- Driver ------------------------------------------------------------ */

static void print_header(const struct params *p)
{
    int mv = mi_version();

    printf("# bench/alloc: allocate and retain\n\n");
    printf("- budget: %zu MiB per thread per size (objects per thread = budget / size)\n",
           p->budget_mib);
    printf("- reps: %d; median reported; systems interleaved in every repetition\n",
           p->reps);
    printf("- ns/alloc = wall_ns * threads / total_allocs (per-thread cost; wall = "
           "barrier release to last thread done)\n");
    printf("- every object gets p[0] = 1 and is retained; each measurement runs in a "
           "fresh process, so every system starts from an empty heap\n");
    printf("- tricolor: tc_alloc_noscan, gc_percent = -1\n");
    printf("- glibc %s malloc; mimalloc %d.%d.%d mi_malloc; %ld online CPUs\n\n",
           gnu_get_libc_version(), mv / 100, (mv / 10) % 10, mv % 10,
           sysconf(_SC_NPROCESSORS_ONLN));
}

int main(int argc, char **argv)
{
    struct params p = parse_args(argc, argv);
    mimalloc_load();
    size_t budget_bytes = p.budget_mib * 1024 * 1024;
    size_t ncells = NSIZES * NTHREADCFG * NSYS;
    double *samples = malloc(ncells * (size_t)p.reps * sizeof(double));

    if (samples == NULL)
        die("out of memory for results", NULL);
    if (p.one_system >= 0) {
        size_t count = budget_bytes / p.one_size ? budget_bytes / p.one_size : 1;
        double ns = run_measurement((enum system)p.one_system, p.one_size, 1, budget_bytes);
        printf("%s %zu bytes: %zu allocations, %.1f ns each\n", system_names[p.one_system],
               p.one_size, count, ns);
        free(samples);
        return 0;
    }
    print_header(&p);

    /* samples[((size * NTHREADCFG + threads) * NSYS + system) * reps + rep] */
#define SAMPLE(s, t, y, r) \
    samples[(((s) * NTHREADCFG + (t)) * NSYS + (size_t)(y)) * (size_t)p.reps + (size_t)(r)]

    for (int r = 0; r < p.reps; r++)
        for (size_t s = 0; s < NSIZES; s++)
            for (size_t t = 0; t < NTHREADCFG; t++)
                for (int k = 0; k < NSYS; k++) {
                    enum system y = (enum system)((k + r) % NSYS);
                    SAMPLE(s, t, y, r) = measure(y, sizes[s], thread_counts[t],
                                                 budget_bytes);
                }

    printf("| size | threads | tricolor ns | malloc ns | mimalloc ns "
           "| tricolor/mimalloc | tricolor/malloc |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|\n");

    double small_ratios[NSIZES * NTHREADCFG];
    int    nsmall = 0;
    for (size_t s = 0; s < NSIZES; s++)
        for (size_t t = 0; t < NTHREADCFG; t++) {
            double med[NSYS];
            char   label[32];
            for (int y = 0; y < NSYS; y++)
                med[y] = median(&SAMPLE(s, t, y, 0), p.reps);

            double vs_mi = med[SYS_TRICOLOR] / med[SYS_MIMALLOC];
            double vs_malloc = med[SYS_TRICOLOR] / med[SYS_MALLOC];
            printf("| %s | %d | %.1f | %.1f | %.1f | %.2f | %.2f |\n",
                   size_label(sizes[s], label, sizeof label), thread_counts[t],
                   med[SYS_TRICOLOR], med[SYS_MALLOC], med[SYS_MIMALLOC],
                   vs_mi, vs_malloc);
            if (sizes[s] <= SMALL_SIZE_MAX)
                small_ratios[nsmall++] = vs_mi;
        }
#undef SAMPLE

    printf("\nsmall sizes (16 B..1 KiB) geometric-mean ratio tricolor/mimalloc: %.2f "
           "(target <= 1.25)\n", geomean(small_ratios, nsmall));

    free(samples);
    return 0;
}
