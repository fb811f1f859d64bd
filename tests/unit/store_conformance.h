/*
 * store_conformance.h - one TAP battery that checks any struct bfs_store
 * against the contract of store/store.h through the interface only, so
 * the local store, the in-memory store and the S3 driver over real
 * servers are held to the same rules.
 *
 * The battery assumes only what S3 guarantees: ETags change when the
 * content changes (not their form), multipart parts but the last are at
 * least 5 MiB, listings are ListObjectsV2 pages (objects and common
 * prefixes each in byte order, at most max_keys entries a page). The
 * conditional cases run only when the store's caps advertise them.
 *
 * TAP state: tap.h keeps static counters, so exactly one translation
 * unit of a test program may include it: store_conformance.c does. A
 * test program reports its own cases through bfs_conformance_ok() and
 * ends with bfs_conformance_done(), and never includes tap.h itself.
 */
#ifndef BFS_TESTS_STORE_CONFORMANCE_H
#define BFS_TESTS_STORE_CONFORMANCE_H

#include "store/store.h"

/* Parts of the battery a store may leave out (each says why it does). */
enum bfs_conformance_flag {
	/*
	 * No 300-byte key segment and no 1024-byte key: servers that keep
	 * keys as file names (s3rver, MinIO on some file systems) refuse
	 * segments over 255 bytes.
	 */
	BFS_CONFORMANCE_NO_LONG_KEYS = 1 << 0,
	/*
	 * A block cache serves a read pinned to a version it still holds
	 * from its blocks of that version: the old ETag's bytes, not ESTALE
	 * (store.h, get_range). Stacks with a block cache pass this.
	 */
	BFS_CONFORMANCE_CACHED_VERSIONS = 1 << 1,
};

/*
 * Run the whole battery on s, under keys that start with prefix (use a
 * fresh one, e.g. "conformance-<random>/", on a shared bucket). Every key
 * it creates is deleted at the end, and the last case checks that nothing
 * is left under prefix.
 * @return the number of failed cases (0: s conforms).
 */
int bfs_store_conformance(struct bfs_store *s, const char *prefix);

/* The same with some parts left out (enum bfs_conformance_flag bits). */
int bfs_store_conformance_flags(struct bfs_store *s, const char *prefix,
				unsigned flags);

/*
 * Report one case of the test program (tap_ok of the one shared TAP
 * state). @return cond.
 */
int bfs_conformance_ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A TAP diagnostic line ("# ..."). */
void bfs_conformance_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Print the plan; @return the exit status for main (0: all passed). */
int bfs_conformance_done(void);

#endif
