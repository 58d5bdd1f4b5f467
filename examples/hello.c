/* hello.c -- the README's example: a typed linked list on the tricolor heap. */
#include <stdio.h>
#include <tricolor.h>

struct node { struct node *next; long value; };

int main(void)
{
    if (tc_init(NULL) != 0) return 1;
    const tc_type *node_type = TC_TYPE(struct node, next);
    struct node *list = NULL;
    for (long i = 0; i < 1000; i++) {
        struct node *n = tc_new(node_type);   /* zeroed, precisely scanned */
        n->value = i;
        n->next = list;
        list = n;
    }
    long sum = 0;
    for (struct node *n = list; n; n = n->next) sum += n->value;
    tc_stats st;
    tc_read_stats(&st);
    printf("sum %ld, %llu objects, %llu bytes on the heap, type %s\n", sum,
           (unsigned long long)st.heap_objects, (unsigned long long)st.heap_alloc,
           tc_type_name(tc_type_of(list)));
    tc_shutdown();
    return sum == 499500 ? 0 : 1;
}
