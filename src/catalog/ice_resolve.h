/*
 * ice_resolve.h - Iceberg table resolution over the store interface:
 * which metadata file is current, its snapshots, and for any snapshot the
 * live data and delete files, with every path re-rooted onto where the
 * table really lives in the bucket.
 *
 * Pure logic, no FUSE: the Iceberg namespace (iceberg_ns.c) and
 * `bucketfs catalog show` call it. Errors come back as EIO with a message
 * naming the file and what is wrong; nothing here crashes on bad input.
 */
#ifndef BFS_CATALOG_ICE_RESOLVE_H
#define BFS_CATALOG_ICE_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum bfs_ice_content {
	BFS_ICE_DATA = 0,
	BFS_ICE_POSITION_DELETES = 1,
	BFS_ICE_EQUALITY_DELETES = 2,
};

/* One live file of a snapshot. */
struct bfs_ice_file {
	char *key; /* object key in the bucket */
	/* not NULL: key is in this other bucket (a URI's authority, as
	 * written), not in the table's */
	char *bucket;
	char *sub;	 /* path shown below current/ (partition sub-path) */
	char *partition; /* "k=v/k2=v2", "" when unpartitioned */
	uint64_t size;	 /* file_size_in_bytes */
	int64_t record_count;
	int64_t snapshot_id; /* the snapshot that added it */
	enum bfs_ice_content content;
	/* a deletion vector: a blob of the Puffin file at key, for the data
	 * file referenced (as written in the manifest); its sub ends in
	 * "@<offset>" so several vectors of one Puffin file are distinct */
	bool is_dv;
	int64_t dv_offset, dv_length;
	char *referenced; /* referenced_data_file, or NULL */
	/* what decides which deletes apply (Iceberg spec, "Scan Planning") */
	char *path;	    /* file_path as written in the manifest */
	int64_t seq;	    /* data sequence number (inherited when null) */
	int64_t file_seq;   /* file sequence number (inherited when null) */
	int32_t spec_id;    /* partition spec of its manifest */
	bool unpartitioned; /* that spec has no fields but void ones */
	char *pkey;	    /* the partition tuple, exactly (not for show) */
	/* equality deletes: the field ids rows are matched on ("1,2"), or
	 * NULL */
	char *equality_ids;
	/* position deletes: the bounds of their file_path column, or NULL */
	char *lower_path, *upper_path;
	/* a data file: the delete files and vectors that apply to it, sorted
	 * by sub (bfs_ice_match_deletes); pointers into the same array */
	struct bfs_ice_file **deletes;
	size_t ndeletes;
	/* a delete: the data files it applies to, sorted by sub */
	struct bfs_ice_file **applies;
	size_t napplies;
	/* filled by the namespace from a listing of the file's folder: the
	 * object's size and mtime (what a read delivers), or missing */
	bool listed, missing;
	/* filled by the namespace: the store holding key when it is not the
	 * table's (bucket set), NULL otherwise */
	struct bfs_store *store;
	uint64_t obj_size;
	struct timespec obj_mtime;
};

struct bfs_ice_snapshot {
	int64_t id;
	int64_t timestamp_ms;
	char *manifest_list; /* key, or NULL for v1 `manifests` */
	char **manifests;    /* v1: keys of the manifests */
	size_t nmanifests;
};

/* A table's current metadata. */
struct bfs_ice_meta {
	char *metadata_key; /* the metadata file read */
	char etag[BFS_ETAG_MAX];
	int format_version;
	char *location;		     /* as written */
	int64_t current_snapshot_id; /* -1: none */
	struct bfs_ice_snapshot *snapshots;
	size_t nsnapshots;
};

/*
 * Read the current metadata of the table at table_prefix ("a/b/t/"):
 * metadata/version-hint.text, else the highest vN.metadata.json or
 * NNNNN-uuid.metadata.json (gzip variants too).
 * @return 0, ENOENT (no metadata file), EIO (unreadable: err says why),
 *         or the store's errno.
 */
int bfs_ice_meta_load(struct bfs_store *s, const char *table_prefix,
		      struct bfs_ice_meta *out, char *err, size_t errlen);

/* Parse metadata JSON (plain or gzip) of a table at table_prefix. */
int bfs_ice_meta_parse(const char *buf, size_t len, const char *table_prefix,
		       struct bfs_ice_meta *out, char *err, size_t errlen);

void bfs_ice_meta_release(struct bfs_ice_meta *m);

/* The snapshot with id, or NULL. */
const struct bfs_ice_snapshot *bfs_ice_snapshot(const struct bfs_ice_meta *m,
						int64_t id);

/*
 * The live files (data and deletes) of a snapshot: manifest list →
 * manifests → entries whose status is not DELETED; each data file's
 * deletes are matched (bfs_ice_match_deletes).
 * @param files receives an array of *n files; release with
 *        bfs_ice_files_free().
 * @return 0, EIO (err names the file), or the store's errno.
 */
int bfs_ice_snapshot_files(struct bfs_store *s, const char *table_prefix,
			   const struct bfs_ice_meta *m,
			   const struct bfs_ice_snapshot *snap,
			   struct bfs_ice_file **files, size_t *n, char *err,
			   size_t errlen);

void bfs_ice_files_free(struct bfs_ice_file *files, size_t n);

/*
 * Re-root path (absolute URI, absolute path or relative, as written in
 * the metadata) onto table_prefix, given the table's location.
 * @return the key (malloc'd), or NULL when path is not below location.
 */
char *bfs_ice_reroot(const char *path, const char *location,
		     const char *table_prefix);

#endif
