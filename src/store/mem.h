/*
 * mem.h - an in-memory store: S3 semantics with no disk and no network,
 * for unit tests of the layers above the store interface.
 */
#ifndef BFS_STORE_MEM_H
#define BFS_STORE_MEM_H

#include "store/store.h"

/* A new empty in-memory store (all caps but LOCAL). Never fails. */
struct bfs_store *bfs_mem_create(const char *name);

#endif
