/*
 * wbbuf.h -- the buffered write barrier's slow side.  See wbbuf.c.
 */
#ifndef TC_GC_WBBUF_H
#define TC_GC_WBBUF_H

#include "../mutator/thread.h"
#include "workbuf.h"

/* Shades every heap pointer in t's barrier buffer into gw and empties it.
 * The owner, or the collector with the world stopped. */
void wbbuf_flush(thread_ctx *t, gcwork *gw);

/* Turns the barrier on (marking or checkptr) or off.  World stopped. */
void wbbuf_set_enabled(int on);

#endif
