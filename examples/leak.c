/*
 * leak.c -- a cache that never evicts, and the heap dumps that find it.
 *
 *   build/examples/leak DIR
 *
 * fills a cache, writes DIR/before.tchd, serves more requests (each adds
 * an entry that is never removed), writes DIR/after.tchd, and prints the
 * address of one entry's value.  Then:
 *
 *   build/bin/tricolor-heapdump diff DIR/before.tchd DIR/after.tchd   what grew
 *   build/bin/tricolor-heapdump path DIR/after.tchd ADDRESS           why it is alive
 *
 * The cache is a global (a root), its bucket array untyped (tc_alloc),
 * entries typed, keys and values noscan.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tricolor.h"

struct entry {
    struct entry *next;
    char *key, *value;
    long hits;
};

struct cache {
    struct entry **buckets;
    size_t nbuckets;
};

static const tc_type *entry_t, *cache_t;
static struct cache *cache; /* global data: a root */

static unsigned long hash(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

static void put(const char *key, const char *value)
{
    struct entry *e = tc_new(entry_t);
    char *k = tc_alloc_noscan(strlen(key) + 1), *v = tc_alloc_noscan(64);
    strcpy(k, key);
    snprintf(v, 64, "%s", value);
    TC_STORE(e->key, k);
    TC_STORE(e->value, v);
    struct entry **b = &cache->buckets[hash(key) % cache->nbuckets];
    TC_STORE(e->next, *b);
    tc_store(b, e);
}

static int dump(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return -1;
    }
    tc_collect(); /* only live objects */
    int rc = tc_heap_dump(fd);
    close(fd);
    if (rc != 0) {
        fprintf(stderr, "tc_heap_dump: %s\n", tc_strerror(rc));
        return -1;
    }
    printf("wrote %s\n", path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: leak DIR\n");
        return 2;
    }
    tc_init(NULL);
    entry_t = TC_TYPE(struct entry, next, key, value);
    cache_t = TC_TYPE(struct cache, buckets);
    cache = tc_new(cache_t);
    cache->nbuckets = 256;
    TC_STORE(cache->buckets, tc_alloc(cache->nbuckets * sizeof(struct entry *)));
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "user:%d", i);
        put(key, "profile");
    }
    if (dump(argv[1], "before.tchd") != 0)
        return 1;
    for (int i = 0; i < 3000; i++) { /* each request caches its session: the leak */
        snprintf(key, sizeof key, "session:%d", i);
        put(key, "token");
    }
    if (dump(argv[1], "after.tchd") != 0)
        return 1;
    struct entry *e = cache->buckets[hash("session:42") % cache->nbuckets];
    while (e != NULL && strcmp(e->key, "session:42") != 0)
        e = e->next;
    printf("session:42's value is at %p\n", (void *)(e ? e->value : NULL));
    tc_shutdown();
    return 0;
}
