/*
 * test_secret.c - unit tests of src/secret.c: AES-256-GCM round trip,
 * nonce freshness, tampering (flipped bytes, a value moved to another
 * bucket, a wrong master key) failing cleanly, master key creation and
 * permissions, a bucket's credentials from the file or the environment,
 * the rotation fallback, locked memory and process hardening.
 *
 * No secret is ever printed: cases compare in memory and say only
 * whether they match.
 */
#include "compat.h"

#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "config_write.h"
#include "secret.h"
#include "tests/unit/tap.h"

/* AWS's documentation example keys: not real, still never printed */
#define AKID   "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static char tmp[64];

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		BFS_BUG("cannot write %s: %s", path, strerror(errno));
	if (fchmod(fd, mode) != 0)
		BFS_BUG("chmod %s", path);
	close(fd);
}

static int count_in_file(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	int count = 0;
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	for (char *p = buf; (p = strstr(p, needle)) != NULL; p++)
		count++;
	return count;
}

/* Re-encode text with byte i of its decoded form flipped. */
static char *flip_byte(const char *text, size_t i)
{
	const char *b64 = text + strlen(BFS_SECRET_PREFIX);
	size_t n = strlen(b64);
	unsigned char raw[2048];
	char out[4096];
	int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	size_t pad = (n && b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');

	len -= (int)pad;
	if (i >= (size_t)len)
		return NULL;
	raw[i] ^= 0x01;
	EVP_EncodeBlock((unsigned char *)out, raw, len);
	return bfs_xasprintf("%s%s", BFS_SECRET_PREFIX, out);
}

static size_t decoded_len(const char *text)
{
	size_t n = strlen(text + strlen(BFS_SECRET_PREFIX));

	return n / 4 * 3 - (text[strlen(text) - 1] == '=') -
	       (text[strlen(text) - 2] == '=');
}

static long vm_locked_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void test_memory(void)
{
	long before = vm_locked_kb();
	struct bfs_secret *s = bfs_secret_new(SECRET, strlen(SECRET));
	long during = vm_locked_kb();

	tap_ok(s && s->len == strlen(SECRET) && strcmp(s->data, SECRET) == 0 &&
		       s->data[s->len] == '\0',
	       "secret copied into its own buffer");
	tap_ok(during > before, "secret memory is locked (VmLck grows)");
	bfs_secret_free(s);
	tap_ok(vm_locked_kb() == before, "freeing unlocks it");
	bfs_secret_free(NULL);
	errno = 0;
	tap_ok(bfs_secret_new(SECRET, BFS_SECRET_MAX + 1) == NULL &&
		       errno == EINVAL,
	       "oversized secret refused");
}

static void test_harden(void)
{
	struct rlimit rl;

	tap_ok(bfs_secret_harden_process() == 0 &&
		       prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0,
	       "harden: process not dumpable");
	tap_ok(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 &&
		       rl.rlim_max == 0,
	       "harden: no core files");
	tap_ok(bfs_secret_harden_process() == 0, "harden is idempotent");
}

static void test_master_key(const char *conf)
{
	struct bfs_master_key *k1 = NULL, *k2 = NULL;
	char *kpath = bfs_master_key_path(conf);
	char *want = bfs_xasprintf("%s/master.key", tmp);
	char err[1024] = "";
	struct bfs_secret *s = NULL;
	struct stat st;
	char *text = NULL;
	int rc;

	tap_ok(strcmp(kpath, want) == 0, "master key lives beside the config");
	rc = bfs_master_key_load(conf, false, &k1, err, sizeof(err));
	tap_ok(rc == ENOENT && k1 == NULL && strstr(err, "no master key"),
	       "missing key without create: ENOENT");
	rc = bfs_master_key_load(conf, true, &k1, err, sizeof(err));
	tap_ok(rc == 0 && k1 && stat(kpath, &st) == 0 &&
		       (st.st_mode & 07777) == 0600 &&
		       st.st_size == BFS_MASTER_KEY_LEN,
	       "key created with mode 0600 and 32 bytes");
	rc = bfs_master_key_load(conf, true, &k2, err, sizeof(err));
	rc |= bfs_secret_encrypt(k1, "lake", SECRET, &text);
	rc |= bfs_secret_decrypt(k2, "lake", text, &s, err, sizeof(err));
	tap_ok(rc == 0 && s && strcmp(s->data, SECRET) == 0,
	       "second load reads the same key (no re-creation)");
	bfs_secret_free(s);
	bfs_master_key_free(k2);
	k2 = NULL;
	free(text);

	chmod(kpath, 0644);
	rc = bfs_master_key_load(conf, true, &k2, err, sizeof(err));
	tap_ok(rc == EACCES && !k2 && strstr(err, "group or others") &&
		       strstr(err, "chmod 600"),
	       "key mode 0644 refused");
	chmod(kpath, 0640);
	rc = bfs_master_key_load(conf, false, &k2, err, sizeof(err));
	tap_ok(rc == EACCES, "key mode 0640 refused");
	chmod(kpath, 0600);
	{
		char *small = bfs_xasprintf("%s/small/bucketfs.conf", tmp);
		char *kp = bfs_master_key_path(small);
		char *dir = bfs_xasprintf("%s/small", tmp);

		mkdir(dir, 0700);
		write_text(kp, "short", 0600);
		rc = bfs_master_key_load(small, true, &k2, err, sizeof(err));
		tap_ok(rc == EINVAL && strstr(err, "has 5 bytes, not 32"),
		       "key of the wrong size refused");
		free(small);
		free(kp);
		free(dir);
	}
	{
		char *deep = bfs_xasprintf("%s/a/b/bucketfs.conf", tmp);
		char *dir = bfs_xasprintf("%s/a", tmp);

		rc = bfs_master_key_load(deep, true, &k2, err, sizeof(err));
		tap_ok(rc == 0 && stat(dir, &st) == 0 &&
			       (st.st_mode & 07777) == 0700,
		       "key created in a new directory with mode 0700");
		bfs_master_key_free(k2);
		k2 = NULL;
		free(deep);
		free(dir);
	}
	{
		char *cd = bfs_xasprintf("%s/creds", tmp);
		char *ck = bfs_xasprintf("%s/creds/bucketfs.key", tmp);
		char *p;

		mkdir(cd, 0700);
		setenv("CREDENTIALS_DIRECTORY", cd, 1);
		p = bfs_master_key_path(conf);
		tap_ok(strcmp(p, kpath) == 0,
		       "$CREDENTIALS_DIRECTORY without bucketfs.key: beside "
		       "the config");
		free(p);
		write_text(ck, "0123456789abcdef0123456789abcdef", 0400);
		p = bfs_master_key_path(conf);
		tap_ok(strcmp(p, ck) == 0,
		       "$CREDENTIALS_DIRECTORY/bucketfs.key under systemd");
		free(p);
		rc = bfs_master_key_load(conf, false, &k2, err, sizeof(err));
		tap_ok(rc == 0, "systemd credential loads");
		bfs_master_key_free(k2);
		k2 = NULL;
		unsetenv("CREDENTIALS_DIRECTORY");
		free(cd);
		free(ck);
	}
	bfs_master_key_free(k1);
	free(kpath);
	free(want);
}

static void test_crypto(void)
{
	struct bfs_master_key *key = NULL, *other = NULL;
	struct bfs_secret *s = NULL;
	char *t1 = NULL, *t2 = NULL, *bad;
	char err[1024] = "";
	size_t n, failures = 0, rejected = 0;
	int rc;

	bfs_master_key_generate(&key);
	bfs_master_key_generate(&other);
	rc = bfs_secret_encrypt(key, "lake", SECRET, &t1);
	tap_ok(rc == 0 && bfs_secret_is_encrypted(t1) && !strstr(t1, SECRET),
	       "encrypt gives enc:v1 text without the plaintext");
	tap_ok(decoded_len(t1) == 12 + strlen(SECRET) + 16,
	       "format: nonce | ciphertext | tag");
	rc = bfs_secret_decrypt(key, "lake", t1, &s, err, sizeof(err));
	tap_ok(rc == 0 && s && s->len == strlen(SECRET) &&
		       strcmp(s->data, SECRET) == 0,
	       "round trip");
	bfs_secret_free(s);
	s = NULL;
	rc = bfs_secret_encrypt(key, "lake", SECRET, &t2);
	tap_ok(rc == 0 && strcmp(t1, t2) != 0 &&
		       strncmp(t1 + 7, t2 + 7, 16) != 0,
	       "two encryptions differ (fresh nonce)");
	rc = bfs_secret_decrypt(key, "lake", t2, &s, err, sizeof(err));
	tap_ok(rc == 0 && strcmp(s->data, SECRET) == 0,
	       "the second decrypts too");
	bfs_secret_free(s);
	s = NULL;

	/* every single flipped bit of nonce, ciphertext and tag */
	n = decoded_len(t1);
	for (size_t i = 0; i < n; i++) {
		bad = flip_byte(t1, i);
		rc = bfs_secret_decrypt(key, "lake", bad, &s, err, sizeof(err));
		if (rc != EBADMSG || s != NULL ||
		    !strstr(err, "wrong master key, or the value was copied "
				 "from another bucket or altered"))
			failures++;
		else
			rejected++;
		bfs_secret_free(s);
		s = NULL;
		free(bad);
	}
	tap_ok(failures == 0 && rejected == n,
	       "a flipped byte anywhere fails with EBADMSG (%zu positions)", n);
	rc = bfs_secret_decrypt(key, "lake2", t1, &s, err, sizeof(err));
	tap_ok(rc == EBADMSG && !s && strstr(err, "bucket 'lake2'") &&
		       strstr(err, "copied from another bucket"),
	       "value pasted into another bucket fails");
	rc = bfs_secret_decrypt(other, "lake", t1, &s, err, sizeof(err));
	tap_ok(rc == EBADMSG && !s && strstr(err, "wrong master key"),
	       "wrong master key fails");
	bad = bfs_xstrdup(t1);
	bad[20] = '!';
	rc = bfs_secret_decrypt(key, "lake", bad, &s, err, sizeof(err));
	tap_ok(rc == EINVAL && !s && strstr(err, "not valid enc:v1 text"),
	       "broken base64 fails with EINVAL");
	free(bad);
	bad = bfs_xstrndup(t1, 7 + 36);
	rc = bfs_secret_decrypt(key, "lake", bad, &s, err, sizeof(err));
	tap_ok(rc == EINVAL && !s, "truncated value fails with EINVAL");
	free(bad);
	rc = bfs_secret_decrypt(key, "lake", "enc:v1:", &s, err, sizeof(err));
	tap_ok(rc == EINVAL && !s, "empty value fails");
	rc = bfs_secret_decrypt(key, "lake", SECRET, &s, err, sizeof(err));
	tap_ok(rc == EINVAL && !s && !strstr(err, SECRET),
	       "plaintext given to decrypt fails without echoing it");
	free(t2);
	tap_ok(bfs_secret_encrypt(key, "lake", "", &t2) == EINVAL && !t2,
	       "empty plaintext refused");
	free(t1);
	free(t2);
	bfs_master_key_free(key);
	bfs_master_key_free(other);
}

/* A config with bucket a's keys, encrypted; b gets a's secret pasted. */
static char *write_config(const char *conf, bool paste)
{
	struct bfs_master_key *key = NULL;
	struct bfs_config_edit *e = NULL;
	char *id = NULL, *sk = NULL;
	char err[1024];
	int rc;

	unlink(conf);
	rc = bfs_master_key_load(conf, true, &key, err, sizeof(err));
	rc |= bfs_secret_encrypt(key, "a", AKID, &id);
	rc |= bfs_secret_encrypt(key, "a", SECRET, &sk);
	rc |= bfs_config_edit_open(conf, &e, err, sizeof(err));
	if (rc != 0)
		BFS_BUG("setup: %s", err);
	bfs_config_edit_set(e, "bucket a", "provider", "gcs");
	bfs_config_edit_set(e, "bucket a", "bucket", "ba");
	bfs_config_edit_set(e, "bucket a", "access_key_id", id);
	bfs_config_edit_set(e, "bucket a", "secret_access_key", sk);
	bfs_config_edit_set(e, "bucket env", "provider", "custom");
	bfs_config_edit_set(e, "bucket env", "endpoint", "http://127.0.0.1:1");
	bfs_config_edit_set(e, "bucket env", "bucket", "be");
	bfs_config_edit_set(e, "bucket plain", "provider", "gcs");
	bfs_config_edit_set(e, "bucket plain", "bucket", "bp");
	bfs_config_edit_set(e, "bucket plain", "allow_plaintext_credentials",
			    "true");
	bfs_config_edit_set(e, "bucket plain", "access_key_id", AKID);
	bfs_config_edit_set(e, "bucket plain", "secret_access_key", SECRET);
	if (paste) {
		bfs_config_edit_set(e, "bucket b", "provider", "gcs");
		bfs_config_edit_set(e, "bucket b", "bucket", "bb");
		bfs_config_edit_set(e, "bucket b", "access_key_id", id);
		bfs_config_edit_set(e, "bucket b", "secret_access_key", sk);
	}
	rc = bfs_config_edit_commit(e, err, sizeof(err));
	if (rc != 0)
		BFS_BUG("commit: %s", err);
	bfs_config_edit_free(e);
	bfs_master_key_free(key);
	free(id);
	return sk;
}

static void test_credentials(const char *conf)
{
	struct bfs_config cfg = {0};
	struct bfs_secret *id = NULL, *sk = NULL;
	char err[1024] = "";
	char *kpath = bfs_master_key_path(conf);
	char *enc;
	int rc;

	enc = write_config(conf, true);
	tap_ok(count_in_file(conf, SECRET) == 1 &&
		       count_in_file(conf, AKID) == 1,
	       "only the plaintext-allowed bucket has its keys in clear");
	rc = bfs_config_load(conf, &cfg, err, sizeof(err));
	if (!tap_ok(rc == 0, "config with encrypted keys loads"))
		tap_diag("%s", err);

	rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "a"), &id,
				    &sk, err, sizeof(err));
	tap_ok(rc == 0 && id && sk && strcmp(id->data, AKID) == 0 &&
		       strcmp(sk->data, SECRET) == 0 && err[0] == '\0',
	       "credentials decrypted from the file");
	tap_ok(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0,
	       "process not dumpable after decrypting");
	bfs_secret_free(id);
	bfs_secret_free(sk);

	rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "b"), &id,
				    &sk, err, sizeof(err));
	tap_ok(rc == EBADMSG && !id && !sk &&
		       strstr(err, "cannot decrypt access_key_id of bucket "
				   "'b': wrong master key, or the value was "
				   "copied from another bucket or altered") &&
		       !strstr(err, enc),
	       "keys pasted into another bucket's section: clear error");

	rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "plain"), &id,
				    &sk, err, sizeof(err));
	tap_ok(rc == 0 && strcmp(id->data, AKID) == 0 &&
		       strcmp(sk->data, SECRET) == 0,
	       "plaintext credentials when allowed");
	bfs_secret_free(id);
	bfs_secret_free(sk);

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "env"), &id,
				    &sk, err, sizeof(err));
	tap_ok(rc == ENOENT && !id && !sk && strstr(err, "no credentials"),
	       "no keys anywhere: ENOENT");
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "env"), &id,
				    &sk, err, sizeof(err));
	tap_ok(rc == EINVAL && strstr(err, "AWS_SECRET_ACCESS_KEY is not"),
	       "only one environment key: EINVAL");
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "env"), &id,
				    &sk, err, sizeof(err));
	tap_ok(rc == 0 && strcmp(id->data, AKID) == 0 &&
		       strcmp(sk->data, SECRET) == 0,
	       "keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY");
	bfs_secret_free(id);
	bfs_secret_free(sk);
	{
		/* systemd's LoadCredential= wins over the environment */
		char *d = bfs_xasprintf("%s/creds", tmp), *f;
		FILE *fp;

		mkdir(d, 0700);
		f = bfs_xasprintf("%s/bucketfs.env.access_key_id", d);
		fp = fopen(f, "w");
		fputs("AKIDFROMCRED\n", fp);
		fclose(fp);
		free(f);
		setenv("CREDENTIALS_DIRECTORY", d, 1);
		rc = bfs_bucket_credentials(&cfg,
					    bfs_config_bucket(&cfg, "env"), &id,
					    &sk, err, sizeof(err));
		tap_ok(rc == EINVAL && !id && !sk &&
			       strstr(err, "bucketfs.env.secret_access_key") &&
			       strstr(err, "missing"),
		       "one credential without the other: EINVAL naming it");
		f = bfs_xasprintf("%s/bucketfs.env.secret_access_key", d);
		fp = fopen(f, "w");
		fputs("SECRETFROMCRED", fp);
		fclose(fp);
		free(f);
		rc = bfs_bucket_credentials(&cfg,
					    bfs_config_bucket(&cfg, "env"), &id,
					    &sk, err, sizeof(err));
		tap_ok(rc == 0 && id && sk &&
			       strcmp(id->data, "AKIDFROMCRED") == 0 &&
			       strcmp(sk->data, "SECRETFROMCRED") == 0,
		       "keys from $CREDENTIALS_DIRECTORY (LoadCredential=)");
		bfs_secret_free(id);
		bfs_secret_free(sk);
		unsetenv("CREDENTIALS_DIRECTORY");
		free(d);
	}
	bfs_secret_scrub_environment();
	tap_ok(!getenv("AWS_ACCESS_KEY_ID") && !getenv("AWS_SECRET_ACCESS_KEY"),
	       "scrub removes the keys from the environment");
	rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "builtin"),
				    &id, &sk, err, sizeof(err));
	tap_ok(rc == ENOENT && !id && !sk, "local bucket: ENOENT");

	/* another master key: everything in the file fails cleanly */
	{
		struct bfs_master_key *k = NULL;

		bfs_master_key_generate(&k);
		bfs_master_key_write(kpath, k, err, sizeof(err));
		bfs_master_key_free(k);
		rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "a"),
					    &id, &sk, err, sizeof(err));
		tap_ok(rc == EBADMSG && !id && strstr(err, "wrong master key"),
		       "wrong master key file: clear error");
	}
	unlink(kpath);
	rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "a"), &id,
				    &sk, err, sizeof(err));
	tap_ok(rc == ENOENT && strstr(err, "no master key"),
	       "missing master key: ENOENT, not created");
	bfs_config_release(&cfg);
	free(enc);
	free(kpath);
}

/* Steps of a rotation interrupted before the promote still decrypt. */
static void test_rotation(const char *conf)
{
	struct bfs_master_key *old = NULL, *new = NULL;
	struct bfs_config_edit *e = NULL;
	struct bfs_config cfg = {0};
	struct bfs_secret *id = NULL, *sk = NULL;
	char *kpath = bfs_master_key_path(conf);
	char *pending = bfs_xasprintf("%s.new", kpath);
	char *t1 = NULL, *t2 = NULL;
	char err[1024] = "";
	int rc;

	free(write_config(conf, false));
	rc = bfs_master_key_load(conf, false, &old, err, sizeof(err));
	rc |= bfs_master_key_generate(&new);
	rc |= bfs_master_key_write(pending, new, err, sizeof(err));
	rc |= bfs_secret_encrypt(new, "a", AKID, &t1);
	rc |= bfs_secret_encrypt(new, "a", SECRET, &t2);
	rc |= bfs_config_edit_open(conf, &e, err, sizeof(err));
	rc |= bfs_config_edit_set(e, "bucket a", "access_key_id", t1);
	rc |= bfs_config_edit_set(e, "bucket a", "secret_access_key", t2);
	rc |= bfs_config_edit_commit(e, err, sizeof(err));
	tap_ok(rc == 0, "rotation: new key staged, config re-encrypted");
	bfs_config_edit_free(e);
	rc = bfs_config_load(conf, &cfg, err, sizeof(err));
	rc |= bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "a"), &id,
				     &sk, err, sizeof(err));
	tap_ok(rc == 0 && strcmp(sk->data, SECRET) == 0 && err[0] == '\0',
	       "rotation: before promote, the staged key decrypts");
	bfs_secret_free(id);
	bfs_secret_free(sk);
	rc = bfs_master_key_promote(conf, err, sizeof(err));
	tap_ok(rc == 0 && access(pending, F_OK) != 0,
	       "rotation: promote renames the staged key");
	rc = bfs_bucket_credentials(&cfg, bfs_config_bucket(&cfg, "a"), &id,
				    &sk, err, sizeof(err));
	tap_ok(rc == 0 && strcmp(id->data, AKID) == 0,
	       "rotation: after promote, the new key decrypts");
	bfs_secret_free(id);
	bfs_secret_free(sk);
	tap_ok(bfs_master_key_promote(conf, err, sizeof(err)) == ENOENT,
	       "rotation: promote without a staged key is ENOENT");
	bfs_config_release(&cfg);
	bfs_master_key_free(old);
	bfs_master_key_free(new);
	free(t1);
	free(t2);
	free(pending);
	free(kpath);
}

int main(void)
{
	char *conf;

	snprintf(tmp, sizeof(tmp), "/tmp/bfs-test-secret-XXXXXX");
	if (!mkdtemp(tmp))
		BFS_BUG("mkdtemp: %s", strerror(errno));
	unsetenv("CREDENTIALS_DIRECTORY");
	conf = bfs_xasprintf("%s/bucketfs.conf", tmp);
	test_memory();
	test_crypto();
	test_master_key(conf);
	test_credentials(conf);
	test_rotation(conf);
	test_harden();
	free(conf);
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
