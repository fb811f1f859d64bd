/*
 * secret.c - credentials at rest (AES-256-GCM under the master key) and
 * in memory (locked, undumpable, wiped), and the resolution of a
 * bucket's keys for a mount. See secret.h for the format and the rules.
 */
#include "compat.h"

#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "secret.h"
#include "util.h"

#define NONCE_LEN 12
#define TAG_LEN	  16

struct bfs_master_key {
	unsigned char k[BFS_MASTER_KEY_LEN];
	size_t maplen;
};

static struct bfs_secret *secret_alloc(size_t len)
{
	struct bfs_secret *s;
	size_t maplen;

	if (len > BFS_SECRET_MAX) {
		errno = EINVAL;
		return NULL;
	}
	s = bfs_locked_alloc(sizeof(*s) + len + 1, &maplen);
	if (!s)
		return NULL;
	s->data = (char *)(s + 1);
	s->len = len;
	s->maplen = maplen;
	return s;
}

struct bfs_secret *bfs_secret_new(const char *data, size_t len)
{
	struct bfs_secret *s = secret_alloc(len);

	if (!s)
		return NULL;
	memcpy(s->data, data, len);
	s->data[len] = '\0';
	return s;
}

void bfs_secret_free(struct bfs_secret *s)
{
	if (s)
		bfs_locked_free(s, s->maplen);
}

static struct bfs_master_key *key_alloc(void)
{
	struct bfs_master_key *k;
	size_t maplen;

	k = bfs_locked_alloc(sizeof(*k), &maplen);
	if (k)
		k->maplen = maplen;
	return k;
}

void bfs_master_key_free(struct bfs_master_key *key)
{
	if (key)
		bfs_locked_free(key, key->maplen);
}

int bfs_secret_harden_process(void)
{
	struct rlimit rl = {0, 0};
	int rc = 0;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		rc = errno;
	if (setrlimit(RLIMIT_CORE, &rl) != 0 && rc == 0)
		rc = errno;
	return rc;
}

bool bfs_secret_is_encrypted(const char *text)
{
	return text &&
	       strncmp(text, BFS_SECRET_PREFIX, strlen(BFS_SECRET_PREFIX)) == 0;
}

/* ---- base64 (strict: canonical alphabet, padded) ----------------------- */

static char *b64_encode(const unsigned char *in, size_t n)
{
	char *out = bfs_xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/* @return decoded length, or -1 if text is not canonical base64. */
static long b64_decode(const char *text, unsigned char **out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(text), body, pad = 0;
	unsigned char *buf;
	int r;

	if (n == 0 || n % 4 != 0 || n > 4 * BFS_SECRET_MAX)
		return -1;
	if (text[n - 1] == '=')
		pad++;
	if (text[n - 2] == '=')
		pad++;
	body = n - pad;
	if (strspn(text, alphabet) != body)
		return -1;
	buf = bfs_xmalloc(n / 4 * 3 + 1);
	r = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)n);
	if (r < 0 || (size_t)r < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	return (long)((size_t)r - pad);
}

/* ---- AES-256-GCM ------------------------------------------------------- */

int bfs_secret_encrypt(const struct bfs_master_key *key,
		       const char *bucket_name, const char *plaintext,
		       char **out_text)
{
	size_t n = strlen(plaintext);
	unsigned char *buf = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int outl = 0, finl = 0, rc = EIO;
	char *b64;

	*out_text = NULL;
	if (n == 0 || n > BFS_SECRET_MAX)
		return EINVAL;
	buf = bfs_xmalloc(NONCE_LEN + n + TAG_LEN);
	if (RAND_bytes(buf, NONCE_LEN) != 1)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) !=
		    1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key->k, buf) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &outl,
			      (const unsigned char *)bucket_name,
			      (int)strlen(bucket_name)) != 1 ||
	    EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &outl,
			      (const unsigned char *)plaintext, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + outl, &finl) != 1 ||
	    (size_t)(outl + finl) != n ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
				buf + NONCE_LEN + n) != 1)
		goto out;
	b64 = b64_encode(buf, NONCE_LEN + n + TAG_LEN);
	*out_text = bfs_xasprintf("%s%s", BFS_SECRET_PREFIX, b64);
	free(b64);
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return rc;
}

static int decrypt_field(const struct bfs_master_key *key,
			 const char *bucket_name, const char *field,
			 const char *text, struct bfs_secret **secret,
			 char *err, size_t errlen)
{
	unsigned char *raw = NULL;
	struct bfs_secret *s = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int outl = 0, finl = 0, rc = EIO;
	size_t n;
	long len;

	*secret = NULL;
	if (!bfs_secret_is_encrypted(text) ||
	    (len = b64_decode(text + strlen(BFS_SECRET_PREFIX), &raw)) < 0 ||
	    (size_t)len < NONCE_LEN + TAG_LEN + 1) {
		snprintf(err, errlen,
			 "cannot decrypt %s of bucket '%s': not valid enc:v1 "
			 "text (truncated or altered)",
			 field, bucket_name);
		rc = EINVAL;
		goto out;
	}
	n = (size_t)len - NONCE_LEN - TAG_LEN;
	s = secret_alloc(n);
	if (!s) {
		rc = errno;
		snprintf(err, errlen, "cannot decrypt %s of bucket '%s': %s",
			 field, bucket_name, strerror(rc));
		goto out;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) !=
		    1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key->k, raw) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl,
			      (const unsigned char *)bucket_name,
			      (int)strlen(bucket_name)) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)s->data, &outl,
			      raw + NONCE_LEN, (int)n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
				raw + NONCE_LEN + n) != 1) {
		snprintf(err, errlen,
			 "cannot decrypt %s of bucket '%s': OpenSSL failed",
			 field, bucket_name);
		goto out;
	}
	if (EVP_DecryptFinal_ex(ctx, (unsigned char *)s->data + outl, &finl) !=
		    1 ||
	    (size_t)(outl + finl) != n) {
		snprintf(err, errlen,
			 "cannot decrypt %s of bucket '%s': wrong master key, "
			 "or the value was copied from another bucket or "
			 "altered",
			 field, bucket_name);
		rc = EBADMSG;
		goto out;
	}
	s->data[n] = '\0';
	*secret = s;
	s = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	bfs_secret_free(s);
	free(raw);
	return rc;
}

int bfs_secret_decrypt(const struct bfs_master_key *key,
		       const char *bucket_name, const char *text,
		       struct bfs_secret **secret, char *err, size_t errlen)
{
	return decrypt_field(key, bucket_name, "the secret", text, secret, err,
			     errlen);
}

/* ---- the master key file ----------------------------------------------- */

static char *dir_of(const char *path)
{
	char *copy = bfs_xstrdup(path);
	char *r = bfs_xstrdup(dirname(copy));

	free(copy);
	return r;
}

char *bfs_master_key_path(const char *config_path)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	char *def = NULL, *dir, *r;

	if (creds && creds[0] == '/') {
		r = bfs_xasprintf("%s/bucketfs.key", creds);
		if (access(r, F_OK) == 0)
			return r;
		free(r);
	}
	if (!config_path)
		config_path = def = bfs_config_default_path();
	dir = dir_of(config_path);
	r = bfs_xasprintf("%s/master.key", dir);
	free(dir);
	free(def);
	return r;
}

static int read_key_file(const char *path, struct bfs_master_key **out,
			 char *err, size_t errlen)
{
	struct bfs_master_key *k = NULL;
	struct stat st;
	size_t got = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open master key '%s': %s", path,
			 strerror(rc));
		return rc == ELOOP ? EACCES : rc;
	}
	if (fstat(fd, &st) != 0) {
		rc = errno;
		snprintf(err, errlen, "cannot stat master key '%s': %s", path,
			 strerror(rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "master key '%s' is not a regular file",
			 path);
		rc = EINVAL;
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen,
			 "master key '%s' belongs to uid %u, neither you nor "
			 "root: refusing to use it",
			 path, (unsigned)st.st_uid);
		rc = EACCES;
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "master key '%s' is accessible by group or others "
			 "(mode %04o): run 'chmod 600 %s'",
			 path, (unsigned)(st.st_mode & 07777), path);
		rc = EACCES;
		goto out;
	}
	if (st.st_size != BFS_MASTER_KEY_LEN) {
		snprintf(err, errlen,
			 "master key '%s' has %lld bytes, not %d: it is "
			 "damaged or not a bucketfs key",
			 path, (long long)st.st_size, BFS_MASTER_KEY_LEN);
		rc = EINVAL;
		goto out;
	}
	k = key_alloc();
	if (!k) {
		rc = ENOMEM;
		snprintf(err, errlen, "cannot load master key '%s': %s", path,
			 strerror(rc));
		goto out;
	}
	rc = bfs_read_full(fd, k->k, BFS_MASTER_KEY_LEN, &got);
	if (rc != 0 || got < BFS_MASTER_KEY_LEN) {
		snprintf(err, errlen, "cannot read master key '%s': %s", path,
			 rc ? strerror(rc) : "short file");
		rc = rc ? rc : EINVAL;
		goto out;
	}
	*out = k;
	k = NULL;
out:
	bfs_master_key_free(k);
	close(fd);
	return rc;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Write the key to a new temporary file beside path; its name in *tmp. */
static int write_temp_key(const char *path, const struct bfs_master_key *key,
			  char **tmp, char *err, size_t errlen)
{
	char *dir = dir_of(path);
	char *name = bfs_xasprintf("%s.tmpXXXXXX", path);
	size_t done = 0;
	int fd, rc = 0;

	rc = bfs_mkdir_p(dir, 0700);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create directory '%s': %s", dir,
			 strerror(rc));
		goto out;
	}
	fd = mkstemp(name);
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot create master key in '%s': %s",
			 dir, strerror(rc));
		goto out;
	}
	if (fchmod(fd, 0600) != 0)
		rc = errno;
	while (rc == 0 && done < BFS_MASTER_KEY_LEN) {
		ssize_t r = write(fd, key->k + done, BFS_MASTER_KEY_LEN - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = errno;
		else
			done += (size_t)r;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot write master key '%s': %s", name,
			 strerror(rc));
		unlink(name);
		goto out;
	}
	*tmp = name;
	name = NULL;
out:
	free(name);
	free(dir);
	return rc;
}

int bfs_master_key_generate(struct bfs_master_key **key)
{
	struct bfs_master_key *k = key_alloc();

	*key = NULL;
	if (!k)
		return ENOMEM;
	if (RAND_priv_bytes(k->k, BFS_MASTER_KEY_LEN) != 1) {
		bfs_master_key_free(k);
		return EIO;
	}
	*key = k;
	return 0;
}

static int create_key_file(const char *path, struct bfs_master_key **out,
			   char *err, size_t errlen)
{
	struct bfs_master_key *k = NULL;
	char *tmp = NULL, *dir = NULL;
	int rc;

	rc = bfs_master_key_generate(&k);
	if (rc != 0) {
		snprintf(err, errlen, "cannot generate a master key: %s",
			 strerror(rc));
		return rc;
	}
	rc = write_temp_key(path, k, &tmp, err, errlen);
	if (rc != 0)
		goto out;
	/* link() is create-exclusive: a concurrent creator wins cleanly */
	if (link(tmp, path) != 0) {
		rc = errno;
		unlink(tmp);
		if (rc == EEXIST) {
			bfs_master_key_free(k);
			k = NULL;
			rc = read_key_file(path, out, err, errlen);
			goto out;
		}
		snprintf(err, errlen, "cannot create master key '%s': %s", path,
			 strerror(rc));
		goto out;
	}
	unlink(tmp);
	dir = dir_of(path);
	fsync_dir(dir);
	bfs_log(LOG_NOTICE, "created master key '%s'", path);
	*out = k;
	k = NULL;
out:
	bfs_master_key_free(k);
	free(tmp);
	free(dir);
	return rc;
}

int bfs_master_key_load(const char *config_path, bool create,
			struct bfs_master_key **key, char *err, size_t errlen)
{
	char *path = bfs_master_key_path(config_path);
	int rc;

	*key = NULL;
	rc = read_key_file(path, key, err, errlen);
	if (rc == ENOENT && create)
		rc = create_key_file(path, key, err, errlen);
	else if (rc == ENOENT)
		snprintf(err, errlen,
			 "no master key '%s': the keys in the config file "
			 "cannot be decrypted without it",
			 path);
	free(path);
	return rc;
}

int bfs_master_key_write(const char *path, const struct bfs_master_key *key,
			 char *err, size_t errlen)
{
	char *tmp = NULL, *dir;
	int rc;

	rc = write_temp_key(path, key, &tmp, err, errlen);
	if (rc != 0)
		return rc;
	if (rename(tmp, path) != 0) {
		rc = errno;
		snprintf(err, errlen, "cannot replace master key '%s': %s",
			 path, strerror(rc));
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	dir = dir_of(path);
	fsync_dir(dir);
	free(dir);
	return 0;
}

int bfs_master_key_promote(const char *config_path, char *err, size_t errlen)
{
	char *path = bfs_master_key_path(config_path);
	char *pending = bfs_xasprintf("%s.new", path);
	char *dir = dir_of(path);
	int rc = 0;

	if (rename(pending, path) != 0) {
		rc = errno;
		snprintf(err, errlen, "cannot rename '%s' to '%s': %s", pending,
			 path, strerror(rc));
	} else {
		fsync_dir(dir);
	}
	free(dir);
	free(pending);
	free(path);
	return rc;
}

/* ---- a bucket's credentials -------------------------------------------- */

/* The key written by step 1 of a rotation that did not finish. */
static struct bfs_master_key *pending_key(const char *config_path)
{
	char *path = bfs_master_key_path(config_path);
	char *pending = bfs_xasprintf("%s.new", path);
	struct bfs_master_key *k = NULL;
	char err[512];

	if (read_key_file(pending, &k, err, sizeof(err)) != 0)
		k = NULL;
	free(pending);
	free(path);
	return k;
}

static int from_file(const struct bfs_config *cfg,
		     const struct bfs_bucket_conf *b, struct bfs_secret **out,
		     char *err, size_t errlen)
{
	const char *fields[2] = {"access_key_id", "secret_access_key"};
	const char *values[2] = {b->access_key_id, b->secret_access_key};
	struct bfs_master_key *key = NULL, *pending = NULL;
	int rc = 0, hrc;

	hrc = bfs_secret_harden_process();
	if (hrc != 0)
		bfs_log(LOG_WARNING, "cannot make the process undumpable: %s",
			strerror(hrc));
	for (int i = 0; i < 2 && rc == 0; i++) {
		if (!bfs_secret_is_encrypted(values[i])) {
			if (!b->allow_plaintext_credentials) {
				snprintf(err, errlen,
					 "%s of bucket '%s' is not encrypted "
					 "and allow_plaintext_credentials is "
					 "not set",
					 fields[i], b->name);
				rc = EINVAL;
				break;
			}
			out[i] = bfs_secret_new(values[i], strlen(values[i]));
			if (!out[i]) {
				rc = errno;
				snprintf(err, errlen, "bucket '%s': %s",
					 b->name, strerror(rc));
			}
			continue;
		}
		if (!key) {
			/*
			 * master.key.new before master.key: a rotation renames
			 * the one over the other after its config commit, so
			 * a file read after that commit decrypts with one of
			 * the two read in this order; in the other order both
			 * can miss it (the old key, then no pending one).
			 */
			pending = pending_key(cfg->path);
			rc = bfs_master_key_load(cfg->path, false, &key, err,
						 errlen);
			if (rc != 0)
				break;
		}
		rc = decrypt_field(key, b->name, fields[i], values[i], &out[i],
				   err, errlen);
		if (rc == EBADMSG) {
			char err2[512];

			if (pending &&
			    decrypt_field(pending, b->name, fields[i],
					  values[i], &out[i], err2,
					  sizeof(err2)) == 0)
				rc = 0;
		}
	}
	if (rc == 0 && (!bfs_secret_is_encrypted(values[0]) ||
			!bfs_secret_is_encrypted(values[1])))
		bfs_log(LOG_WARNING,
			"bucket '%s' uses plaintext credentials from '%s' "
			"(allow_plaintext_credentials = true); store them "
			"encrypted with 'bucketfs bucket connect %s'",
			b->name, cfg->path ? cfg->path : "the config file",
			b->name);
	bfs_master_key_free(key);
	bfs_master_key_free(pending);
	return rc;
}

static int from_environment(const struct bfs_config *cfg,
			    const struct bfs_bucket_conf *b,
			    struct bfs_secret **out, char *err, size_t errlen)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	bool have_id = id && id[0], have_sk = sk && sk[0];

	if (!have_id && !have_sk) {
		snprintf(err, errlen,
			 "bucket '%s' has no credentials: none in %s%s%s and "
			 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not "
			 "set (store keys with 'bucketfs bucket connect %s')",
			 b->name, cfg->path ? "'" : "",
			 cfg->path ? cfg->path : "the configuration",
			 cfg->path ? "'" : "", b->name);
		return ENOENT;
	}
	if (!have_id || !have_sk) {
		snprintf(err, errlen,
			 "bucket '%s': %s is set but %s is not (set both)",
			 b->name,
			 have_id ? "AWS_ACCESS_KEY_ID"
				 : "AWS_SECRET_ACCESS_KEY",
			 have_id ? "AWS_SECRET_ACCESS_KEY"
				 : "AWS_ACCESS_KEY_ID");
		return EINVAL;
	}
	out[0] = bfs_secret_new(id, strlen(id));
	out[1] = out[0] ? bfs_secret_new(sk, strlen(sk)) : NULL;
	if (!out[1]) {
		int rc = errno;

		snprintf(err, errlen,
			 "bucket '%s': cannot keep the keys from the "
			 "environment: %s",
			 b->name,
			 rc == EINVAL ? "a key is too long" : strerror(rc));
		return rc;
	}
	(void)bfs_secret_harden_process();
	return 0;
}

/*
 * One credential file of systemd's LoadCredential= (a value, maybe
 * followed by a newline). @return 0, ENOENT (no such file), EINVAL.
 */
static int read_credential(const char *dir, const char *name,
			   struct bfs_secret **out)
{
	char *path = bfs_xasprintf("%s/%s", dir, name);
	char buf[4096];
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	free(path);
	if (fd < 0)
		return errno == ENOENT ? ENOENT : errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n == (ssize_t)sizeof(buf)) {
		rc = n < 0 ? errno : EINVAL;
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 0) {
		rc = EINVAL;
		goto out;
	}
	*out = bfs_secret_new(buf, (size_t)n);
	if (*out == NULL)
		rc = errno;
out:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/*
 * The keys of bucket NAME handed over by systemd (LoadCredential=
 * bucketfs.NAME.access_key_id:... and bucketfs.NAME.secret_access_key:
 * ...), read from $CREDENTIALS_DIRECTORY. @return 0, ENOENT (none
 * there), EINVAL (only one, or empty).
 */
static int from_credentials(const struct bfs_bucket_conf *b,
			    struct bfs_secret **out, char *err, size_t errlen)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *n0, *n1;
	int r0, r1;

	if (!dir || dir[0] != '/')
		return ENOENT;
	n0 = bfs_xasprintf("bucketfs.%s.access_key_id", b->name);
	n1 = bfs_xasprintf("bucketfs.%s.secret_access_key", b->name);
	r0 = read_credential(dir, n0, &out[0]);
	r1 = read_credential(dir, n1, &out[1]);
	if (r0 == ENOENT && r1 == ENOENT) {
		free(n0);
		free(n1);
		return ENOENT;
	}
	if (r0 != 0 || r1 != 0) {
		snprintf(err, errlen,
			 "bucket '%s': credential '%s' in "
			 "$CREDENTIALS_DIRECTORY: "
			 "%s",
			 b->name, r0 ? n0 : n1,
			 (r0 ? r0 : r1) == ENOENT   ? "missing (give both keys)"
			 : (r0 ? r0 : r1) == EINVAL ? "empty or too long"
						    : strerror(r0 ? r0 : r1));
		free(n0);
		free(n1);
		return EINVAL;
	}
	free(n0);
	free(n1);
	(void)bfs_secret_harden_process();
	return 0;
}

int bfs_bucket_credentials(const struct bfs_config *cfg,
			   const struct bfs_bucket_conf *b,
			   struct bfs_secret **akid, struct bfs_secret **secret,
			   char *err, size_t errlen)
{
	struct bfs_secret *out[2] = {NULL, NULL};
	int rc;

	*akid = *secret = NULL;
	if (errlen)
		err[0] = '\0';
	if (b->provider == BFS_PROVIDER_LOCAL) {
		snprintf(err, errlen,
			 "bucket '%s' is local and has no credentials",
			 b->name);
		return ENOENT;
	}
	if (b->access_key_id && b->secret_access_key) {
		rc = from_file(cfg, b, out, err, errlen);
	} else {
		rc = from_credentials(b, out, err, errlen);
		if (rc == ENOENT)
			rc = from_environment(cfg, b, out, err, errlen);
	}
	if (rc != 0) {
		bfs_secret_free(out[0]);
		bfs_secret_free(out[1]);
		return rc;
	}
	if (errlen)
		err[0] = '\0'; /* a rotation fallback may have written one */
	*akid = out[0];
	*secret = out[1];
	return 0;
}

/* ---- SSE-C customer keys ------------------------------------------------ */

int bfs_secret_read_file(const char *path, struct bfs_secret **out, char *err,
			 size_t errlen)
{
	char buf[BFS_SECRET_MAX + 1];
	size_t n = 0;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 strerror(rc));
		return rc;
	}
	rc = bfs_read_full(fd, buf, sizeof(buf), &n);
	if (rc != 0) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 strerror(rc));
		goto out;
	}
	if (n > BFS_SECRET_MAX || n == 0) {
		rc = n ? E2BIG : ENODATA;
		snprintf(err, errlen, "'%s' is %s", path,
			 n ? "longer than any key" : "empty");
		goto out;
	}
	*out = bfs_secret_new(buf, n);
	if (!*out) {
		rc = errno;
		snprintf(err, errlen, "cannot keep the key of '%s': %s", path,
			 strerror(rc));
	}
out:
	close(fd);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int bfs_secret_sse_key_b64(const struct bfs_secret *in, struct bfs_secret **b64,
			   char *err, size_t errlen)
{
	unsigned char raw[BFS_SSE_KEY_LEN + 16];
	char text[4 * ((BFS_SSE_KEY_LEN + 2) / 3) + 8];
	const char *p = in->data;
	size_t n = in->len;
	int r, rc = 0;

	*b64 = NULL;
	if (n == BFS_SSE_KEY_LEN) {
		memcpy(raw, p, n);
	} else {
		while (n > 0 && strchr(" \t\r\n", p[n - 1]))
			n--;
		while (n > 0 && strchr(" \t", p[0])) {
			p++;
			n--;
		}
		/* 32 bytes are 44 base64 characters, one '=' of padding */
		r = n == 44 && p[43] == '=' && p[42] != '=' &&
				    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "abcdefghijklmnopqrstuvwxyz"
					      "0123456789+/") == 43
			    ? EVP_DecodeBlock(raw, (const unsigned char *)p, 44)
			    : -1;
		if (r != BFS_SSE_KEY_LEN + 1) { /* the padding decodes too */
			snprintf(err, errlen,
				 "the SSE-C customer key must be 32 bytes, "
				 "raw or in base64 ('openssl rand 32' or "
				 "'openssl rand -base64 32' makes one)");
			rc = EINVAL;
			goto out;
		}
	}
	EVP_EncodeBlock((unsigned char *)text, raw, BFS_SSE_KEY_LEN);
	*b64 = bfs_secret_new(text, strlen(text));
	if (!*b64) {
		rc = errno;
		snprintf(err, errlen, "cannot keep the customer key: %s",
			 strerror(rc));
	}
out:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(text, sizeof(text));
	return rc;
}

int bfs_bucket_sse_key(const struct bfs_config *cfg,
		       const struct bfs_bucket_conf *b, struct bfs_secret **key,
		       char *err, size_t errlen)
{
	struct bfs_master_key *mk = NULL, *pending = NULL;
	struct bfs_secret *plain = NULL;
	const char *v = b->sse_customer_key;
	int rc;

	*key = NULL;
	if (!v) {
		snprintf(err, errlen, "bucket '%s' has no sse_customer_key",
			 b->name);
		return ENOENT;
	}
	(void)bfs_secret_harden_process();
	if (!bfs_secret_is_encrypted(v)) {
		if (!b->allow_plaintext_credentials) {
			snprintf(err, errlen,
				 "sse_customer_key of bucket '%s' is not "
				 "encrypted and allow_plaintext_credentials is "
				 "not set",
				 b->name);
			return EINVAL;
		}
		plain = bfs_secret_new(v, strlen(v));
		rc = plain ? 0 : errno;
		goto check;
	}
	rc = bfs_master_key_load(cfg->path, false, &mk, err, errlen);
	if (rc != 0)
		goto out;
	rc = decrypt_field(mk, b->name, "sse_customer_key", v, &plain, err,
			   errlen);
	if (rc == EBADMSG) {
		char err2[512];

		pending = pending_key(cfg->path);
		if (pending &&
		    decrypt_field(pending, b->name, "sse_customer_key", v,
				  &plain, err2, sizeof(err2)) == 0)
			rc = 0;
	}
check:
	if (rc == 0) {
		rc = bfs_secret_sse_key_b64(plain, key, err, errlen);
		if (rc != 0)
			snprintf(err, errlen,
				 "sse_customer_key of bucket '%s' is not a "
				 "32-byte key in base64",
				 b->name);
	}
out:
	bfs_secret_free(plain);
	bfs_master_key_free(mk);
	bfs_master_key_free(pending);
	return rc;
}

void bfs_secret_scrub_environment(void)
{
	static const char *const names[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN"};

	for (size_t i = 0; i < BFS_ARRAY_SIZE(names); i++) {
		char *v = getenv(names[i]);

		if (v) {
			explicit_bzero(v, strlen(v));
			unsetenv(names[i]);
		}
	}
}
