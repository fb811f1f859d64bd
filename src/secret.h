/*
 * secret.h - credentials at rest and in memory.
 *
 * At rest: each key of a bucket is stored in the config file as
 *
 *     enc:v1:BASE64( nonce[12] | ciphertext[n] | tag[16] )
 *
 * AES-256-GCM under the master key, with a fresh random 96-bit nonce per
 * encryption and the bucket's section name as associated data, so a
 * value pasted into another bucket's section does not decrypt. GCM
 * cannot tell a wrong master key from an altered or moved value; the
 * error says so.
 *
 * The master key is 32 random bytes (raw, no encoding) in `master.key`
 * in the directory of the config file, mode 0600, created on first use;
 * under systemd `$CREDENTIALS_DIRECTORY/bucketfs.key` is used instead
 * when it exists (LoadCredential= / LoadCredentialEncrypted=). A key
 * file that group or others can access, or that belongs to another
 * user, is refused.
 *
 * In memory: a decrypted secret lives in its own anonymous mapping that
 * is mlock'ed (never swapped) and excluded from core dumps
 * (MADV_DONTDUMP), and is wiped with explicit_bzero before it is
 * unmapped. The master key lives the same way. Nothing here logs or
 * formats a secret into an error message.
 *
 * Invariants:
 * - The functions are thread-safe (no shared state but a warn-once flag).
 * - mlock does not survive fork(): resolve credentials in the process
 *   that uses them (the daemon, after it forks), not before.
 */
#ifndef BFS_SECRET_H
#define BFS_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define BFS_MASTER_KEY_LEN 32
#define BFS_SECRET_PREFIX  "enc:v1:"
/* Longest plaintext accepted (keys are tens of bytes). */
#define BFS_SECRET_MAX 1024

/* A decrypted secret. @note owned by the caller: bfs_secret_free(). */
struct bfs_secret {
	char *data; /* len bytes + NUL, in locked memory */
	size_t len;
	size_t maplen; /* private: size of the mapping holding all this */
};

/* The master key, in locked memory. Opaque. */
struct bfs_master_key;

/*
 * Make the process non-dumpable (PR_SET_DUMPABLE 0: no core file, no
 * ptrace or /proc/PID/mem by other processes of the same user) and set
 * RLIMIT_CORE to 0. Call before decrypting; bfs_bucket_credentials()
 * calls it itself. Idempotent.
 * @return 0, or the errno of the call that failed.
 */
int bfs_secret_harden_process(void);

/*
 * Copy len bytes into a new secret in locked memory (a key typed at a
 * prompt, read from stdin or from the environment).
 * @return the secret, or NULL with errno ENOMEM or EINVAL (len too big).
 */
struct bfs_secret *bfs_secret_new(const char *data, size_t len);

/* Wipe and free a secret. NULL is a no-op. */
void bfs_secret_free(struct bfs_secret *s);

/* True if text has the enc:v1: prefix (it may still fail to decrypt). */
bool bfs_secret_is_encrypted(const char *text);

/*
 * Where the master key of a config file is (or would be created):
 * $CREDENTIALS_DIRECTORY/bucketfs.key when that file exists, else
 * master.key in the directory of config_path.
 * @param config_path the config file, or NULL for
 *        bfs_config_default_path().
 * @return a malloc'd path; the caller frees it.
 */
char *bfs_master_key_path(const char *config_path);

/*
 * Load the master key of a config file, creating it when missing and
 * create is true (32 bytes from the OpenSSL CSPRNG, mode 0600, written
 * to a temporary file, fsync'ed and linked into place so that two
 * concurrent creators end up with one key; missing directories are
 * made with mode 0700).
 * @param config_path as for bfs_master_key_path().
 * @param key receives the key; free it with bfs_master_key_free().
 * @return 0; ENOENT (no key and create is false); EACCES (accessible by
 *         group/other, owned by another user, or unreadable); EINVAL
 *         (not 32 bytes); another errno from the file system. err says
 *         which file and what to do.
 */
int bfs_master_key_load(const char *config_path, bool create,
			struct bfs_master_key **key, char *err, size_t errlen);

/*
 * A new random master key, in memory only (for `bucketfs key rotate`).
 * @return 0, or EIO (no randomness) / ENOMEM.
 */
int bfs_master_key_generate(struct bfs_master_key **key);

/*
 * Write key to path atomically: temporary file in the same directory,
 * mode 0600, fsync, rename over path, fsync of the directory.
 * @return 0, or an errno with err set.
 */
int bfs_master_key_write(const char *path, const struct bfs_master_key *key,
			 char *err, size_t errlen);

/*
 * Key rotation, in this order, so that a crash at any point leaves
 * every secret decryptable:
 *   1. bfs_master_key_generate(); bfs_master_key_write(PATH.new, new).
 *   2. Re-encrypt every secret under the new key and commit the config
 *      file (config_write.h; one atomic rename).
 *   3. bfs_master_key_promote(): rename PATH.new over PATH.
 * Between 2 and 3 bfs_bucket_credentials() falls back to PATH.new when
 * PATH does not decrypt a value. PATH is bfs_master_key_path().
 * @return 0, ENOENT (no PATH.new), or another errno with err set.
 */
int bfs_master_key_promote(const char *config_path, char *err, size_t errlen);

/* Wipe and free a master key. NULL is a no-op. */
void bfs_master_key_free(struct bfs_master_key *key);

/*
 * Encrypt plaintext for the [bucket bucket_name] section.
 * @param out_text receives "enc:v1:..." (malloc'd, not secret; the
 *        caller frees it).
 * @return 0; EINVAL (empty or longer than BFS_SECRET_MAX); EIO (OpenSSL
 *         failed).
 */
int bfs_secret_encrypt(const struct bfs_master_key *key,
		       const char *bucket_name, const char *plaintext,
		       char **out_text);

/*
 * Decrypt an enc:v1 value of the [bucket bucket_name] section.
 * @param secret receives the plaintext in locked memory
 *        (bfs_secret_free()).
 * @return 0; EINVAL (not enc:v1 text, or truncated); EBADMSG (does not
 *         authenticate: wrong master key, or the value was copied from
 *         another bucket or altered); EIO (OpenSSL failed). err never
 *         contains any part of the value.
 */
int bfs_secret_decrypt(const struct bfs_master_key *key,
		       const char *bucket_name, const char *text,
		       struct bfs_secret **secret, char *err, size_t errlen);

/*
 * The credentials a mount of bucket b uses: its keys from the file,
 * decrypted with the master key beside cfg->path (or used as they are
 * when allow_plaintext_credentials is set, with a warning in the log),
 * else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment.
 * Hardens the process (bfs_secret_harden_process()) before decrypting.
 * @param akid, secret receive the two keys (bfs_secret_free() each);
 *        both NULL on failure.
 * @return 0; ENOENT (a local bucket, or no keys in the file nor in the
 *         environment); EINVAL (only one of the two environment
 *         variables is set; a malformed value); EBADMSG (a value does
 *         not decrypt: err names the key and the bucket); the errnos of
 *         bfs_master_key_load().
 */
int bfs_bucket_credentials(const struct bfs_config *cfg,
			   const struct bfs_bucket_conf *b,
			   struct bfs_secret **akid, struct bfs_secret **secret,
			   char *err, size_t errlen);

/* Bytes of an SSE-C customer key (AES-256). */
#define BFS_SSE_KEY_LEN 32

/*
 * Read a whole small file (at most BFS_SECRET_MAX bytes) into a new
 * secret: a key given as a file rather than in argv.
 * @return 0; E2BIG (longer); ENODATA (empty); the errno of open/read;
 *         err names the file, never its content.
 */
int bfs_secret_read_file(const char *path, struct bfs_secret **out, char *err,
			 size_t errlen);

/*
 * An SSE-C customer key as S3 takes it: the base64 of its 32 bytes.
 * @param in the key, either its 32 raw bytes or their base64 (blanks
 *        and a newline around it allowed).
 * @param b64 receives the canonical base64 text (44 characters).
 * @return 0, or EINVAL (not 32 bytes either way) with err set.
 */
int bfs_secret_sse_key_b64(const struct bfs_secret *in, struct bfs_secret **b64,
			   char *err, size_t errlen);

/*
 * The SSE-C customer key of bucket b (sse = c): sse_customer_key
 * decrypted like the keys (bfs_bucket_credentials()), as base64.
 * @return 0; ENOENT (none in the section); the errnos of
 *         bfs_bucket_credentials() for a value that does not decrypt.
 */
int bfs_bucket_sse_key(const struct bfs_config *cfg,
		       const struct bfs_bucket_conf *b, struct bfs_secret **key,
		       char *err, size_t errlen);

/*
 * Wipe the values of AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN in place (so /proc/PID/environ no longer shows them)
 * and unset them. Call once every bucket's credentials are resolved.
 */
void bfs_secret_scrub_environment(void);

#endif
