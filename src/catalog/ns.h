/*
 * ns.h - the namespace: what the mount shows, resolved into (store, key).
 *
 * The filesystem layer sees only nodes. A node is a directory or a file;
 * a node backed by a store carries the store and the object key (files)
 * or key prefix (directories: "" or ending in '/'). Virtual directories
 * (the lake root, `buckets/`, an Iceberg table's `current/`) have no key
 * and are served entirely by their namespace's ops. The filesystem never
 * learns which catalog a node came from: lookup and readdir go through
 * node->ns, data goes to node->store at node->key.
 *
 * Writable nodes are always prefix trees (a bucket view or a managed
 * catalog): below a writable directory with prefix P, a file NAME is key
 * P+NAME and a directory NAME is prefix P+NAME+"/" (bfs_ns_make_child).
 *
 * Namespaces are built once at mount time and live until unmount; their
 * ops are thread-safe.
 */
#ifndef BFS_CATALOG_NS_H
#define BFS_CATALOG_NS_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

struct bfs_ns;

enum bfs_node_type {
	BFS_NODE_DIR,
	BFS_NODE_FILE,
};

struct bfs_node {
	struct bfs_ns *ns;	 /* serves this node; not owned */
	struct bfs_store *store; /* NULL for virtual nodes; not owned */
	char *key;		 /* owned; NULL for virtual nodes */
	enum bfs_node_type type;
	bool writable;	/* dirs: children may be created/removed; files: data */
	bool have_info; /* info is valid (from a listing or a head) */
	/* the file is known to exist but its HEAD failed (EIO): attributes
	 * are unknown, so getattr and open fail until a HEAD succeeds, while
	 * unlink and overwrite still work (how a damaged object is removed) */
	bool broken;
	/* with broken: not a failed HEAD but an entry known to be unservable
	 * (an Iceberg file whose object is missing): getattr and open fail
	 * with this errno, no request is made */
	int error;
	struct bfs_obj_info info; /* owned; info.key is NULL */
	/* a read-only file that is exactly exact_len bytes at exact_off of
	 * its object, which was exact_obj bytes when listed (an Iceberg data
	 * file as its snapshot was listed; a deletion vector, one blob of its
	 * Puffin file): stat shows exact_len whatever a HEAD says; an open
	 * that finds the object of another size, and a read that delivers
	 * less than the file has, fail with EIO (logged), never short */
	bool exact;
	uint64_t exact_off, exact_len, exact_obj;
	/* a read-only node's namespace-private data (an Iceberg file's
	 * facts); owned by the namespace, valid until unmount */
	const void *ns_data;
};

/* Called by readdir for each child; node is borrowed for the call. */
typedef int (*bfs_ns_dirent_fn)(void *arg, const char *name,
				const struct bfs_node *node);

struct bfs_ns_ops {
	/*
	 * The child NAME of directory dir.
	 * @param out filled on success; release with bfs_node_release().
	 * @return 0, ENOENT, EIO, EACCES, ETIMEDOUT.
	 */
	int (*lookup)(struct bfs_ns *ns, const struct bfs_node *dir,
		      const char *name, struct bfs_node *out);
	/*
	 * Every child of dir, each once, in any order.
	 * @return 0, an errno from the store, or fn's non-zero return.
	 */
	int (*readdir)(struct bfs_ns *ns, const struct bfs_node *dir,
		       bfs_ns_dirent_fn fn, void *arg);
	/*
	 * Extended attributes a namespace adds to its nodes (user.iceberg.*),
	 * NULL if none. list writes NUL-separated names into buf (size 0:
	 * return the size needed in *len).
	 * @return 0, ENODATA (no such attribute), ERANGE (buf too small).
	 */
	int (*getxattr)(struct bfs_ns *ns, const struct bfs_node *node,
			const char *name, char *buf, size_t size, size_t *len);
	int (*listxattr)(struct bfs_ns *ns, const struct bfs_node *node,
			 char *buf, size_t size, size_t *len);
	/*
	 * Wait for the requests the namespace still has in flight on its
	 * own (a lookup's HEAD it stopped waiting for); NULL if it has
	 * none. Called before its stores shut down.
	 */
	void (*quiesce)(struct bfs_ns *ns);
	/* Free the namespace (not the stores it points to). */
	void (*destroy)(struct bfs_ns *ns);
};

struct bfs_ns {
	const struct bfs_ns_ops *ops;
	const char *name; /* for log lines */
};

/* Free what node owns; safe on a zeroed node. */
void bfs_node_release(struct bfs_node *node);
/* Deep copy (ns_data is shared, not copied). */
void bfs_node_copy(struct bfs_node *dst, const struct bfs_node *src);

/*
 * The node a new child NAME of the writable prefix directory dir would
 * have (for create, mkdir, symlink and rename targets).
 * @return 0, EROFS (dir is read-only), ENAMETOOLONG (key > 1024 bytes),
 *         EINVAL (NAME is empty, ".", ".." or contains '/').
 */
int bfs_ns_make_child(const struct bfs_node *dir, const char *name,
		      enum bfs_node_type type, struct bfs_node *out);

/*
 * Whether NAME can be a path component: not empty, ".", "..", no '/',
 * valid UTF-8 (S3 keys are UTF-8: a name that is not cannot be stored,
 * and would be sent to the server as bytes it refuses or mangles).
 * @return 0, EINVAL, ENAMETOOLONG (over 255 bytes) or EILSEQ (not
 *         UTF-8).
 */
int bfs_ns_name_valid(const char *name);

/*
 * Length of the valid UTF-8 sequence that starts s (1 to 4), or 0 for
 * the end of the string or bytes that are not UTF-8 (overlong forms and
 * surrogates included).
 */
size_t bfs_ns_utf8_seq(const char *s);

/*
 * Copy NAME into out for a log line: bytes that are not UTF-8, control
 * characters and '\' written as \xNN. Truncates to outlen.
 */
void bfs_ns_name_printable(const char *name, char *out, size_t outlen);

#endif
