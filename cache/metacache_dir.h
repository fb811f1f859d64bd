/*
 * metacache_dir.h - a directory's cached listing as one sequence of
 * pages (what readdir asks: prefix "dir/", delimiter "/"), the answers
 * it gives about names it does not show, and how our own writes amend
 * it so that it stays what the bucket would list (internal to the
 * metadata cache: metacache.c reads and stores the pages).
 *
 * Invariants:
 * - The pages are in listing order, each sorted (objects and common
 *   prefixes each by byte order), each page's names after the previous
 *   page's; amending keeps that (a new name goes into the page whose
 *   range holds it), so a listing served from the pages passes the
 *   checks of bfs_store_list_all.
 * - Only a complete chain (the last page has no next token) answers
 *   "no such name"; the caller judges freshness.
 */
#ifndef BFS_CACHE_METACACHE_DIR_H
#define BFS_CACHE_METACACHE_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Entries (objects and common prefixes) a listing may hold and still be
 * amended by a write that adds one; a larger one is dropped instead. */
#define BFS_MC_CHAIN_MAX 10000

/*
 * Entries an expired listing may hold and still be fetched again whole
 * by a lookup (bfs_list_req.refresh_small) instead of probing its name:
 * one page, one round trip like a probe's (its answer, under 64 KiB of
 * XML, takes well under a millisecond more at 100 MiB/s), so from the
 * second name looked up in the directory on it saves a LIST and a HEAD
 * each. Past it the probe stays: a lookup in a big directory would
 * fetch many names to learn of one.
 */
#define BFS_MC_RELIST_MAX 256

struct bfs_mc_chain {
	struct bfs_list_result *pages;
	char **tokens;	  /* the token page i was asked with ([0]: NULL) */
	uint64_t *stamps; /* when page i was fetched */
	size_t n;
};

/* Append a page (taken over: res is zeroed) asked with token (copied). */
void bfs_mc_chain_add(struct bfs_mc_chain *c, struct bfs_list_result *res,
		      const char *token, uint64_t stamp);

/* Free the pages; c is empty again. */
void bfs_mc_chain_release(struct bfs_mc_chain *c);

/* Whether the last page ends the listing (no next token). */
bool bfs_mc_chain_complete(const struct bfs_mc_chain *c);

/*
 * Whether any object or common prefix the listing shows starts with
 * name_prefix. In a complete listing of directory D, "no" means that no
 * key at all starts with it, provided it is D followed by no '/'.
 */
bool bfs_mc_chain_has_prefix(const struct bfs_mc_chain *c,
			     const char *name_prefix);

/*
 * Whether the listing is one complete page of at most BFS_MC_RELIST_MAX
 * entries: one a lookup may fetch again whole once it has expired.
 */
bool bfs_mc_chain_small(const struct bfs_mc_chain *c);

/* The listed object key, or NULL. */
const struct bfs_obj_info *bfs_mc_chain_find(const struct bfs_mc_chain *c,
					     const char *key);

/*
 * Amend the listing of directory dir (a prefix "" or ending in '/') after
 * our own write of key, a key under dir: made (size, etag and mtime of
 * what the write made) or, with made NULL, deleted.
 * @return true when the listing is still true, false when it cannot be
 *         told (a key deleted below a subdirectory: whether the
 *         subdirectory is left empty) or the listing holds
 *         BFS_MC_CHAIN_MAX entries already; the caller then drops it.
 */
bool bfs_mc_chain_amend(struct bfs_mc_chain *c, const char *dir,
			const char *key, const struct bfs_obj_info *made);

#endif
