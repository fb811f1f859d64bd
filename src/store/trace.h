/*
 * trace.h - a store layer that logs every call it passes down: the
 * operation, the key, the result and how long it took, at debug level
 * under `-o debug=store` (git's refs/debug.c). It changes nothing else,
 * so it can sit anywhere in a stack: lake builds put one above the
 * driver when store debugging is on, tests put it where they look.
 */
#ifndef BFS_STORE_TRACE_H
#define BFS_STORE_TRACE_H

#include "store/store.h"

/* Counters of a trace layer. */
struct bfs_trace_stats {
	uint64_t calls;	 /* operations passed down */
	uint64_t errors; /* of those, the ones that returned an errno */
};

/*
 * A trace layer over inner, which it then owns (destroy destroys it).
 * @return the layer (never NULL: allocation failure aborts).
 */
struct bfs_store *bfs_trace_create(struct bfs_store *inner);

/* Copy the counters of a trace layer (s must be one). */
void bfs_trace_get_stats(struct bfs_store *s, struct bfs_trace_stats *out);

#endif
