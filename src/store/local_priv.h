/*
 * local_priv.h - what the files of the local store share (see local.h
 * for its interface). The store is split by job:
 *   local.c         the store operations (head, get, put, delete, copy),
 *                   creation, checks of the format and destruction
 *   local_names.c   key segments <-> file names
 *   local_format.c  the object header's encoding
 *   local_write.c   writing: temporary files, commit, parents, fsync
 *   local_list.c    S3-style listings over the tree
 *   local_mpu.c     multipart uploads
 *
 * The local store keeps one file per object under
 * DIR/.bucketfs/objects/, in a tree of encoded key segments, each file a
 * checksummed header (key, ETag, mtime, user metadata) followed by the
 * content. Owns the on-disk format, key <-> file name encoding, atomic
 * replace, S3-style listings over the tree and multipart uploads.
 *
 * On-disk layout (doc/internals/local-store.md has the full story):
 *
 *   DIR/.bucketfs/format         "bucketfs-local 1\n"
 *   DIR/.bucketfs/lock           flock()ed around namespace changes
 *   DIR/.bucketfs/tmp/           temporary files, renamed into objects/
 *   DIR/.bucketfs/uploads/ID/    info (a header only), part.00001 ...
 *   DIR/.bucketfs/objects/       key "a/b/c" -> "a%p/b%p/c%o"
 *
 * Each key segment is percent-encoded (only '%', '/', control bytes and
 * DEL are escaped, as %XX in upper case), then suffixed "%o" for the
 * last segment (an object) or "%p" for a segment followed by '/' (a
 * prefix, i.e. a directory). So `a` (a%o), `a/` (a%p/%o) and `a/b`
 * (a%p/b%o) coexist. A segment whose encoding would not fit in a file
 * name is stored as its first 200 encoded bytes, "%h", 32 hex digits of
 * its SHA-256 and the suffix; such a directory holds a file "%name" with
 * the raw segment, such an object names its key in its header.
 *
 * Object file (and uploads/ID/info, with no content):
 *
 *   0   8  magic "BFSLOBJ1"
 *   8   4  hlen: header bytes, content starts here (40 .. 1 MiB)
 *   12  4  CRC-32 (IEEE) of bytes 16 .. hlen
 *   16  8  content size; the file is exactly hlen + size bytes
 *   24  8  mtime seconds (Last-Modified)
 *   32  4  mtime nanoseconds
 *   36  4  flags, 0
 *   40     strings, each a 4-byte length and bytes without NUL:
 *          ETag, key, content type; then a 4-byte count of metadata
 *          pairs, each name and value as strings
 *   hlen   content
 *
 * All integers are little-endian.
 */
#ifndef BFS_STORE_LOCAL_PRIV_H
#define BFS_STORE_LOCAL_PRIV_H

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "store/local.h"
#include "util.h"

#define LOCAL_FORMAT "bucketfs-local 1\n"
#define HDR_MAGIC    "BFSLOBJ1"
#define HDR_FIXED    40
#define HDR_MAX	     (1u << 20)
#define HDR_FIRST    4096
/* a file name: NAME_MAX on Linux */
#define NAME_ROOM 255
/* encoded bytes kept in front of the hash of a long segment */
#define ENC_HASHED_KEEP 200
#define HASH_HEX	32
#define SEGNAME		"%name"
/* the longest relative path of a key: 3 bytes per key byte and a suffix */
#define REL_MAX	       4096
#define IO_BUF	       (256 * 1024)
#define TMP_MAX_AGE    (24 * 3600)
#define UPLOAD_MAX_AGE (7 * 24 * 3600)
#define LIST_MAX_KEYS  1000
#define PART_MAX       10000
#define UPLOAD_ID_LEN  32
#define MD5_HEX	       32

struct local_priv {
	char *name;
	char *dir;
	int root_fd; /* DIR/.bucketfs */
	int obj_fd;  /* DIR/.bucketfs/objects */
	int tmp_fd;  /* DIR/.bucketfs/tmp */
	int up_fd;   /* DIR/.bucketfs/uploads */
	int lock_fd; /* DIR/.bucketfs/lock */
	/*
	 * Serializes namespace changes (condition check + rename, unlink +
	 * rmdir of empty parents) in this process; lock_fd's flock does it
	 * between processes.
	 */
	pthread_mutex_t ns_lock;
	pthread_mutex_t stats_lock;
	struct bfs_store_stats stats; /* protected by stats_lock */
	uint64_t tmp_seq;	      /* atomic */
};

/* What an object file's header holds. */
struct obj_hdr {
	uint32_t hlen;
	uint64_t size;
	struct timespec mtime;
	char etag[BFS_ETAG_MAX];
	char *key;
	char *ctype;
	struct bfs_meta_list meta;
};

/* local.c */
void hdr_release(struct obj_hdr *h);
struct local_priv *local_priv_of(struct bfs_store *s);
int stat_done(struct local_priv *p, int rc, uint64_t in, uint64_t out);
int sys_err(struct local_priv *p, const char *what, const char *rel, int e);
int damaged(struct local_priv *p, const char *rel, const char *why);
uint32_t crc32_ieee(const unsigned char *b, size_t n);
EVP_MD_CTX *md5_new(void);
void md5_finish(EVP_MD_CTX *md, char *hex, unsigned char *raw);
void md5_update(EVP_MD_CTX *md, const void *b, size_t n);

/* local_names.c */
void seg_name(const char *seg, size_t len, char type, char *out);
bool name_hashed(const char *name);
int parse_name(const char *name, char *type, char **seg);
int key_check(const char *key);
int rel_add(char *rel, size_t *o, const char *name);
int key_path(const char *key, char *rel);
const char *rel_or_dot(const char *rel);
char *rel_join(const char *rel, const char *name);

/* local_format.c */
unsigned char *hdr_encode(struct obj_hdr *h, const struct bfs_meta_list *meta,
			  size_t *len);
int hdr_read(int fd, struct obj_hdr *h, bool want_meta, const char **why);
int obj_open_rel(struct local_priv *p, const char *rel, const char *key,
		 bool want_meta, struct obj_hdr *h, int *fdp);
int obj_open(struct local_priv *p, const char *key, bool want_meta,
	     struct obj_hdr *h, int *fdp);

/* local_write.c */
void ns_lock(struct local_priv *p);
void ns_unlock(struct local_priv *p);
int tmp_open(struct local_priv *p, int dirfd, char *name, int *fdp);
int copy_data(struct local_priv *p, int src, off_t soff, int dst, off_t doff,
	      uint64_t size, EVP_MD_CTX *md, const char *srcwhat);
void sync_dir(struct local_priv *p, const char *rel);
int commit(struct local_priv *p, const char *tmp, const char *key,
	   const char *if_match, bool if_none_match);
int write_hdr(struct local_priv *p, int fd, struct obj_hdr *h,
	      const struct bfs_meta_list *meta, uint32_t want_hlen);
uint32_t hdr_len(struct obj_hdr *h, const struct bfs_meta_list *meta,
		 size_t etag_len);
int sync_fd(struct local_priv *p, int fd);

/* local_list.c */
int local_list(struct bfs_store *s, const struct bfs_list_req *req,
	       struct bfs_list_result *out);

/* local_mpu.c */
bool upload_id_ok(const char *id);
void upload_remove(struct local_priv *p, const char *id);
int local_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
		    char **upload_id);
int local_mpu_part(struct bfs_store *s, const char *key, const char *upload_id,
		   int number, int fd, off_t off, size_t len, char *etag_out);
int local_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
		       const char *upload_id, const struct bfs_part *parts,
		       size_t nparts, char *etag_out);
int local_mpu_abort(struct bfs_store *s, const char *key,
		    const char *upload_id);

#endif
