/*
 * fault.h - a store layer that makes calls fail on request: the next n
 * calls of one operation (or of any) return an errno without reaching
 * the store below, or get_range returns fewer bytes than asked (a short
 * read, which the contract allows only at the end of an object). Unarmed
 * it passes everything down unchanged. Tests put it under the layers
 * whose error handling they check (s3backer's test_io.c,
 * mountpoint-s3's failure_client).
 */
#ifndef BFS_STORE_FAULT_H
#define BFS_STORE_FAULT_H

#include "store/store.h"

/*
 * A fault layer over inner, which it then owns (destroy destroys it);
 * unarmed. @return the layer (allocation failure aborts).
 */
struct bfs_store *bfs_fault_create(struct bfs_store *inner);

/*
 * Make the next n calls of op fail with err, without calling the store
 * below. op is an operation's name ("head", "get_range", "put", "del",
 * "copy", "list", "mpu_begin", "mpu_part", "mpu_complete", "mpu_abort",
 * "warm") or "*" for any; n 0 disarms. Replaces what was armed before.
 * Thread-safe.
 */
void bfs_fault_arm(struct bfs_store *s, const char *op, int err, unsigned n);

/*
 * Make the next n get_range calls ask the store below for at most max
 * bytes (a short read). n 0 disarms. Thread-safe.
 */
void bfs_fault_short_reads(struct bfs_store *s, size_t max, unsigned n);

/* Faults injected so far (errors and short reads). */
uint64_t bfs_fault_injected(struct bfs_store *s);

#endif
