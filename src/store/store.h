/*
 * store.h - the one interface every object store driver and every cache
 * layer implements (s3backer's `struct s3backer_store`).
 *
 * Invariants of every store:
 * - Keys are flat byte strings (UTF-8 in practice), never starting with
 *   '/'. "Directories" exist only as common prefixes of keys and as
 *   zero-byte marker objects whose key ends in '/'.
 * - Every object has a size, an ETag that changes whenever its content
 *   changes, an mtime, and user metadata (name/value pairs, names in
 *   lower case without the `x-amz-meta-` prefix).
 * - A put replaces an object atomically: a reader sees the old object or
 *   the new one, never a mix.
 * - Functions return 0 or a positive errno. The errnos a caller acts on:
 *     ENOENT    no such object (or no such upload)
 *     ESTALE    a condition failed (If-Match / If-None-Match: 412), or the
 *               object changed under a ranged read pinned to an ETag
 *     EEXIST    If-None-Match: * and the object exists
 *     EACCES    access denied or bad credentials
 *     EIO       the server failed after retries, or sent garbage
 *     ETIMEDOUT the server did not answer within the timeouts
 *     ENOSPC    a local store (or cache) is out of space
 *     ERANGE    a ranged read starts past the end of the object
 *     EINVAL    a bad argument (empty key, bad part number)
 * - All operations are thread-safe after start(): the filesystem calls
 *   get_range from many threads at once, which is how ranged reads run in
 *   parallel on one object.
 * - Lifetimes: create (driver-specific constructor, no threads, no
 *   network), start (after the daemon forks, before any I/O), shutdown
 *   (flush, then shut down the inner store), destroy (destroy the inner
 *   store, then free itself).
 * - A stack is a chain of layers linked by `inner`, a driver at the
 *   bottom. A layer is found by its `kind` (bfs_store_layer()), never by
 *   comparing function pointers; what only a driver knows (the S3 store's
 *   last error) is asked of the layer that has it, wherever it sits.
 */
#ifndef BFS_STORE_H
#define BFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* An ETag without quotes, at most this long with its NUL. */
#define BFS_ETAG_MAX 80
/* S3 limit on key length in bytes. */
#define BFS_KEY_MAX 1024

/* Capabilities a store advertises in bfs_store.caps. */
enum bfs_store_cap {
	/* put honours if_none_match (create only if absent) */
	BFS_CAP_IF_NONE_MATCH = 1 << 0,
	/* put honours if_match (replace only that version) */
	BFS_CAP_IF_MATCH = 1 << 1,
	/* mpu_* are implemented */
	BFS_CAP_MULTIPART = 1 << 2,
	/* stored data is local: no point caching it on disk */
	BFS_CAP_LOCAL = 1 << 3,
};

/* One user metadata pair. Both strings owned by the list holding them. */
struct bfs_user_meta {
	char *name;
	char *value;
};

/* User metadata of an object; {NULL, 0} is empty. */
struct bfs_meta_list {
	struct bfs_user_meta *items;
	size_t n;
};

/* What a store knows of one object. */
struct bfs_obj_info {
	char *key; /* owned; NULL when the caller gave the key */
	uint64_t size;
	char etag[BFS_ETAG_MAX];
	struct timespec mtime; /* Last-Modified */
	/* user metadata: filled by head; list leaves it empty unless
	 * meta_known */
	struct bfs_meta_list meta;
	/* list entries: meta is this version's user metadata, recalled from
	 * a head of the same ETag, size and Last-Modified (metacache) */
	bool meta_known;
	/* head: the server's clock (Date) when it answered; 0 if unknown.
	 * An answer given after the Last-Modified second ended describes
	 * the version of that second: a later change has a later date. */
	time_t answered;
};

/* One ListObjectsV2-style page request. */
struct bfs_list_req {
	const char *prefix;    /* "" for the whole bucket */
	const char *delimiter; /* "/" or NULL for a flat listing */
	const char *token;     /* continuation token from last page, or NULL */
	const char *start_after; /* or NULL */
	unsigned max_keys;	 /* 0: the store's default (1000) */
	/* answer only what costs no request: where one would be sent (the
	 * s3 driver, a metadata cache that misses) the answer is EAGAIN;
	 * a local store and a cache hit answer as usual. A lookup asks so
	 * first, to know whether to send its HEAD along with the LIST */
	bool cached_only;
	/* with cached_only, on the first page of a directory's listing
	 * (prefix "dir/" or "", delimiter "/", no token, max_keys 0): a
	 * metadata cache whose listing of dir has expired but was small
	 * (one complete page of at most BFS_MC_RELIST_MAX entries) lists
	 * it again, one request shared by every caller that asks at
	 * once, and answers the fresh page; otherwise as cached_only. A
	 * lookup asks so before probing a name of its own, so that the
	 * names looked up after it in that directory cost nothing */
	bool refresh_small;
};

/* One page of a listing; release with bfs_list_result_release(). */
struct bfs_list_result {
	struct bfs_obj_info *objs; /* keys in byte order, each with .key */
	size_t nobjs;
	char **prefixes; /* common prefixes, each ending in the delimiter */
	size_t nprefixes;
	char *next_token; /* NULL on the last page */
};

/* Arguments of put: the body is a local file region. */
struct bfs_put_req {
	const char *key;
	int fd;	       /* read with pread; the store never moves its offset */
	off_t offset;  /* where the body starts in fd */
	uint64_t size; /* body length */
	const struct bfs_meta_list *meta; /* NULL: no user metadata */
	const char *content_type;	  /* NULL: a default */
	const char *if_match;		  /* replace only this ETag, or NULL */
	bool if_none_match;		  /* create only if absent */
	/* meta's times are the last write's, set by nobody: a streamed
	 * upload may leave them to the object's Last-Modified */
	bool times_implicit;
	/* digests of the body when the caller has them, else NULL: put
	 * need not read the body once more for them */
	const unsigned char *md5;    /* 16 bytes */
	const unsigned char *sha256; /* 32 bytes */
	/* NULL, or where a successful put (or mpu_complete) writes the
	 * server's clock (Date) when it answered, 0 when unknown: with
	 * the ETag it tells a cache which version the write made (the
	 * answer has no Last-Modified; the version's is at most this) */
	time_t *answered;
};

/* A finished part of a multipart upload. */
struct bfs_part {
	int number; /* 1..10000 */
	char etag[BFS_ETAG_MAX];
};

struct bfs_store_stats {
	uint64_t requests;
	uint64_t retries;
	uint64_t errors;
	uint64_t bytes_in;
	uint64_t bytes_out;
};

/*
 * Told, while a ranged read is still arriving, how far its bytes in the
 * caller's buffer are final: landed(arg, n) means buf[0..n) holds the
 * pinned version's bytes and no later byte of the answer changes them.
 * n grows from call to call; the read's own return is still the
 * verdict on the rest.
 */
struct bfs_range_sink {
	void (*landed)(void *arg, size_t n);
	void *arg;
	/* n is worth telling only once it passes a multiple of step (the
	 * block cache lands whole blocks); 0: as often as bytes come */
	size_t step;
	/*
	 * 0: buf holds the whole range. Else buf is a ring of this many
	 * bytes (a multiple of step, at least two steps): byte i of the
	 * answer goes to buf[i % ring], and when landed(n) returns the
	 * bytes of [0, n) rounded down to step are consumed and their room
	 * may be written again. A read whose answer cannot be told as it
	 * comes (a 200 to a Range, a 206 with no ETag) and is longer than
	 * the ring fails with ENOBUFS: the caller asks again without one.
	 */
	size_t ring;
};

/*
 * Bytes of a read that a cache left in a local file (a block file)
 * instead of copying them into the caller's buffer: the caller sends
 * them on with splice(2), so they are never copied through user space.
 * The caller closes fd. The buffer's bytes [at, at + len) are undefined.
 */
struct bfs_file_part {
	int fd;
	uint64_t off; /* where the bytes start in the file */
	size_t at;    /* where they belong in the read */
	size_t len;
};

/* A 1 MiB read of 1 MiB blocks touches two; room for a larger one. */
#define BFS_FILE_PARTS_MAX 4

struct bfs_file_parts {
	unsigned n;
	struct bfs_file_part v[BFS_FILE_PARTS_MAX];
};

/* Close the files of parts and empty it. */
void bfs_file_parts_close(struct bfs_file_parts *parts);

struct bfs_store {
	void *priv;
	/* human name for log lines, e.g. "builtin" or "s3:lake"; owned by
	 * the driver, or by bfs_store_decorate() for a layer */
	const char *name;
	unsigned caps; /* enum bfs_store_cap bits */
	/* what this layer is: one of the BFS_STORE_KIND_* strings (or a
	 * test's own), set by its constructor */
	const char *kind;
	/* the store this layer decorates, owned by it in a bucket's stack
	 * (destroy destroys it); NULL for a driver, the bottom of a stack */
	struct bfs_store *inner;

	/*
	 * Start background work (threads, connection pools). Called after the
	 * daemon forks, before any I/O; may be NULL.
	 * @return 0 or an errno.
	 */
	int (*start)(struct bfs_store *s);

	/*
	 * Attributes and user metadata of one object.
	 * @param out filled on success; release with bfs_obj_info_release().
	 * @return 0, ENOENT (no such key), EACCES, EIO, ETIMEDOUT.
	 */
	int (*head)(struct bfs_store *s, const char *key,
		    struct bfs_obj_info *out);

	/*
	 * head, and the object's first bytes with the same request: a
	 * ranged GET with no If-Match answers all a HEAD does (ETag, size
	 * from Content-Range, Last-Modified, Date, user metadata) and
	 * costs the same round trip, so the read that follows an open or
	 * a lookup needs none of its own (issue 15: first bytes fast).
	 * Call it through bfs_store_head_read(); may be NULL (head then).
	 * @param known the ETag the caller last knew of key (a stale
	 *        cache entry's), or NULL: a cache that holds that
	 *        version's first bytes sends a plain HEAD instead, since
	 *        they are likely still the object's (a re-open costs no
	 *        bytes twice).
	 * @param buf receives up to len bytes from offset 0 of the version
	 *        *out describes. NULL (len 0): the caller wants none; a
	 *        cache layer keeps the bytes it reads for the read expected
	 *        next, and with no cache below the driver sends a HEAD.
	 * @param got bytes put in buf (NULL when buf is): fewer than len
	 *        at the end of the object, 0 when the answer cost no
	 *        request (a cache's): the caller reads them as usual.
	 * @return as head.
	 */
	int (*head_read)(struct bfs_store *s, const char *key,
			 const char *known, struct bfs_obj_info *out, void *buf,
			 size_t len, size_t *got);

	/*
	 * head, and the object's last bytes with the same request (a GET
	 * of a suffix range): for a file whose reader starts at its end
	 * (a Parquet footer), as head_read is for one read from the top.
	 * May be NULL (a driver without suffix ranges).
	 * @param buf receives the last len bytes of the version *out
	 *        describes, all of it when it is shorter: they start at
	 *        out->size - *got.
	 * @param got bytes put in buf; 0 when the server sent none of the
	 *        end (it ignored the Range and the object is longer).
	 * @return as head.
	 */
	int (*tail_read)(struct bfs_store *s, const char *key,
			 struct bfs_obj_info *out, void *buf, size_t len,
			 size_t *got);

	/*
	 * Read len bytes at offset off into buf.
	 * @param if_match ETag the read is pinned to, or NULL: a different
	 *        current ETag gives ESTALE, so one open file never mixes the
	 *        bytes of two versions. A cache layer may instead serve the
	 *        bytes of the pinned version from what it holds of it (the
	 *        block cache keys blocks by ETag): still never a mix.
	 * @param got bytes stored in buf; less than len only at end of object.
	 * @return 0, ENOENT, ESTALE, ERANGE (off past the end; off == size
	 *         gives 0 with *got 0), EIO, ETIMEDOUT.
	 */
	int (*get_range)(struct bfs_store *s, const char *key, uint64_t off,
			 size_t len, void *buf, size_t *got,
			 const char *if_match);

	/*
	 * get_range that tells sink how far buf is final as the answer
	 * arrives, so that the front of a long read is used before its end
	 * (the block cache lands each block of a run as it comes). May be
	 * NULL: the caller uses get_range. bfs_store_decorate() does not pass
	 * it down: a layer that changes get_range (a fault injector) is
	 * never bypassed by it.
	 */
	int (*get_range_sink)(struct bfs_store *s, const char *key,
			      uint64_t off, size_t len, void *buf, size_t *got,
			      const char *if_match,
			      const struct bfs_range_sink *sink);

	/*
	 * get_range that may leave bytes it holds in local files there,
	 * appending them to parts (in the order of the read, while parts
	 * has room) for the caller to splice; the others are in buf as
	 * get_range's. May be NULL: the caller uses get_range.
	 * bfs_store_decorate() passes it down only through a layer that
	 * keeps get_range as it is, so no layer that changes or watches the
	 * bytes it returns is bypassed.
	 */
	int (*get_range_parts)(struct bfs_store *s, const char *key,
			       uint64_t off, size_t len, void *buf, size_t *got,
			       const char *if_match,
			       struct bfs_file_parts *parts);

	/*
	 * Create or atomically replace an object from a local file region.
	 * @param etag_out receives the new ETag (BFS_ETAG_MAX bytes), may be
	 *        NULL.
	 * @return 0, ESTALE (if_match failed), EEXIST (if_none_match and the
	 *         key exists), EACCES, EIO, ETIMEDOUT, ENOSPC.
	 */
	int (*put)(struct bfs_store *s, const struct bfs_put_req *req,
		   char *etag_out);

	/*
	 * Delete one object. Deleting a missing key succeeds (S3 semantics).
	 * @return 0, EACCES, EIO, ETIMEDOUT.
	 */
	int (*del)(struct bfs_store *s, const char *key);

	/*
	 * Server-side copy src → dst (any size).
	 * @param meta new user metadata for dst, or NULL to keep src's.
	 * @param if_match copy only if src still has this ETag, or NULL.
	 * @return 0, ENOENT (no src), ESTALE, EACCES, EIO, ETIMEDOUT.
	 */
	int (*copy)(struct bfs_store *s, const char *src, const char *dst,
		    const struct bfs_meta_list *meta, const char *if_match,
		    char *etag_out);

	/*
	 * One page of a listing, keys in byte order.
	 * @return 0, EAGAIN (req->cached_only and the answer needs a
	 *         request), EACCES, EIO, ETIMEDOUT.
	 */
	int (*list)(struct bfs_store *s, const struct bfs_list_req *req,
		    struct bfs_list_result *out);

	/*
	 * Multipart upload (NULL when BFS_CAP_MULTIPART is not set).
	 * mpu_begin returns an upload id (malloc'd, caller frees). Parts may
	 * be uploaded in parallel from several threads. All parts but the
	 * last must have the same size (R2 requires it).
	 * mpu_complete honours if_match/if_none_match of req (req->fd unused).
	 */
	int (*mpu_begin)(struct bfs_store *s, const struct bfs_put_req *req,
			 char **upload_id);
	int (*mpu_part)(struct bfs_store *s, const char *key,
			const char *upload_id, int number, int fd, off_t off,
			size_t len, char *etag_out);
	int (*mpu_complete)(struct bfs_store *s, const struct bfs_put_req *req,
			    const char *upload_id, const struct bfs_part *parts,
			    size_t nparts, char *etag_out);
	int (*mpu_abort)(struct bfs_store *s, const char *key,
			 const char *upload_id);

	/*
	 * Bring len bytes at off of the version etag of key into the cache
	 * of this stack, returning no data: a read of them is expected (the
	 * prefetcher's way in, through the layers above the cache). May be
	 * NULL: a stack without such a cache has nothing to warm.
	 * @return 0, ERANGE (off past the end of the object), ENOENT, ESTALE
	 *         (the object has another ETag now), EIO, ETIMEDOUT, EINVAL.
	 */
	int (*warm)(struct bfs_store *s, const char *key, const char *etag,
		    uint64_t off, uint64_t len);

	/* Copy the counters out; may be NULL. */
	void (*get_stats)(struct bfs_store *s, struct bfs_store_stats *out);

	/* Flush pending work and shut down the inner store; may be NULL. */
	void (*shutdown)(struct bfs_store *s);

	/* Destroy the inner store, then free this one. */
	void (*destroy)(struct bfs_store *s);
};

/* The kinds of the layers bucketfs builds (bfs_store.kind). */
#define BFS_STORE_KIND_S3	  "s3"
#define BFS_STORE_KIND_LOCAL	  "local"
#define BFS_STORE_KIND_MEM	  "mem"
#define BFS_STORE_KIND_BLOCKCACHE "blockcache"
#define BFS_STORE_KIND_METACACHE  "metacache"
#define BFS_STORE_KIND_PREFETCH	  "prefetch"
#define BFS_STORE_KIND_TRACE	  "trace"
#define BFS_STORE_KIND_FAULT	  "fault"
#define BFS_STORE_KIND_SLOW	  "slow"

/* Whether s (NULL: false) is a layer of that kind. */
bool bfs_store_is(const struct bfs_store *s, const char *kind);

/*
 * The topmost layer of that kind in the stack s tops (s itself
 * included), following inner; NULL when there is none.
 */
struct bfs_store *bfs_store_layer(struct bfs_store *s, const char *kind);

/*
 * Make s a layer over inner: fill its header (priv, kind, caps as
 * inner's, inner, and the name "INNER+suffix", e.g. "s3:lake+blocks"),
 * and send every operation s left NULL to inner unchanged: head,
 * get_range, put, del, copy, list, the mpu_* (only when inner has them:
 * a layer over a store without multipart has none, whatever it set),
 * warm, start and shutdown (when inner has them), head_read and
 * tail_read (when inner has them and s left head NULL too: a layer that
 * changes head, a cache or a fault injector, would be bypassed by them),
 * and get_stats (inner's
 * counters, zeros when inner has none). A layer sets the operations it
 * changes, then calls this; destroy stays its own.
 * @note the name is allocated here and freed by bfs_store_undecorate().
 */
void bfs_store_decorate(struct bfs_store *s, void *priv,
			struct bfs_store *inner, const char *kind,
			const char *suffix);

/* A layer's start begins with the inner store's (0 when it has none). */
int bfs_store_start_inner(struct bfs_store *s);
/* A layer's shutdown ends with the inner store's (if it has one). */
void bfs_store_shutdown_inner(struct bfs_store *s);

/*
 * Undo bfs_store_decorate() for a layer's destroy: destroy the inner
 * store and free the name. The layer then frees its own state.
 */
void bfs_store_undecorate(struct bfs_store *s);

/* Free the contents of info (not info itself); safe on a zeroed struct. */
void bfs_obj_info_release(struct bfs_obj_info *info);
/* Deep copy src into dst. */
void bfs_obj_info_copy(struct bfs_obj_info *dst,
		       const struct bfs_obj_info *src);
/* Free the contents of a listing page. */
void bfs_list_result_release(struct bfs_list_result *res);

void bfs_meta_list_release(struct bfs_meta_list *m);
void bfs_meta_list_copy(struct bfs_meta_list *dst,
			const struct bfs_meta_list *src);
/* Value of a metadata name (case-insensitive), or NULL. */
const char *bfs_meta_get(const struct bfs_meta_list *m, const char *name);
/* Add or replace name=value (both copied). */
void bfs_meta_set(struct bfs_meta_list *m, const char *name, const char *value);
/* Remove a name. @return 0 or ENOENT. */
int bfs_meta_remove(struct bfs_meta_list *m, const char *name);

/*
 * Read exactly [off, off+len) or up to end of object, retrying short
 * reads: the get_range loop the filesystem and caches share.
 */
int bfs_store_read_full(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match);

/*
 * bfs_store_read_full through get_range_parts when s has it (parts'
 * at is then from buf), else as bfs_store_read_full (parts stays
 * empty). On failure parts is closed and empty.
 */
int bfs_store_read_parts(struct bfs_store *s, const char *key, uint64_t off,
			 size_t len, void *buf, size_t *got,
			 const char *if_match, struct bfs_file_parts *parts);

/*
 * s->head_read when s has it, else s->head (*got 0): the head of an
 * open or a lookup, which a cache below may answer with the object's
 * first bytes in its cache (store.h, head_read).
 */
int bfs_store_head_read(struct bfs_store *s, const char *key, const char *known,
			struct bfs_obj_info *out, void *buf, size_t len,
			size_t *got);

/*
 * Bounds on one listing consumed page by page, whatever the server
 * sends (doc/SEMANTICS.md, "Limits"). A listing that passes one is a
 * server fault or a directory too large to hold: EIO and one log line.
 * Each page's body is bounded by the driver (8 MiB in the s3 store).
 */
#define BFS_LIST_MAX_ENTRIES 1000000u	  /* objects + common prefixes */
#define BFS_LIST_MAX_BYTES   (256u << 20) /* of names */
#define BFS_LIST_MAX_PAGES   100000u
/* truncated pages in a row that hold nothing */
#define BFS_LIST_MAX_EMPTY 1000u

struct bfs_list_limits {
	unsigned max_entries; /* 0: BFS_LIST_MAX_ENTRIES */
	uint64_t max_bytes;   /* 0: BFS_LIST_MAX_BYTES */
	unsigned max_pages;   /* 0: BFS_LIST_MAX_PAGES */
	unsigned max_empty;   /* 0: BFS_LIST_MAX_EMPTY */
};

/*
 * Call fn for every object and common prefix under req's prefix, across
 * all pages. fn returns 0 to go on or an errno to stop (returned as is).
 * obj is NULL for a prefix entry and prefix NULL for an object entry.
 * A server whose listing never ends is caught: a continuation token
 * equal to the one just sent, a page whose last name does not sort after
 * the previous page's last name (in UTF-8 byte order as S3 lists, nor in
 * UTF-16 order as s3rver does: a page that ends where the previous one
 * did makes no progress), or a listing
 * beyond the BFS_LIST_MAX_* bounds ends it with EIO and one log line
 * naming the store and the fault.
 * @return 0, EIO, or an errno of s->list or fn.
 */
typedef int (*bfs_list_fn)(void *arg, const struct bfs_obj_info *obj,
			   const char *prefix);
int bfs_store_list_all(struct bfs_store *s, const char *prefix,
		       const char *delimiter, bfs_list_fn fn, void *arg);
/* bfs_store_list_all with explicit bounds (NULL: the defaults). */
int bfs_store_list_bounded(struct bfs_store *s, const char *prefix,
			   const char *delimiter,
			   const struct bfs_list_limits *lim, bfs_list_fn fn,
			   void *arg);

#endif
