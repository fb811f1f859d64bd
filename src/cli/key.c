/*
 * key.c - `bucketfs key rotate`: every encrypted key of the config file
 * re-encrypted under a new master key, so that a crash at any moment
 * leaves a file and a key that decrypt each other.
 *
 * The order (secret.h, bfs_master_key_promote()):
 *   0. every value is decrypted first; if one does not, nothing changes.
 *      If an earlier rotation stopped after its config commit, some
 *      values decrypt only with master.key.new: they are re-encrypted
 *      under master.key and committed before anything else, so that
 *      step 1 may overwrite master.key.new.
 *   1. a new key is written to master.key.new (temp file + rename);
 *   2. the config file is rewritten with every value under the new key
 *      (temp file + rename);
 *   3. master.key.new is renamed over master.key.
 * Before 2 the file decrypts with master.key; between 2 and 3 readers
 * fall back to master.key.new (bfs_bucket_credentials()); after 3 the
 * pair is whole again.
 */
#include "compat.h"

#include <unistd.h>

#include "cli/cli_priv.h"
#include "conf.h"
#include "config_write.h"
#include "secret.h"

/* One encrypted value of the file, and its plaintext. */
struct value {
	const char *bucket; /* section name: the associated data */
	const char
		*key; /* access_key_id, secret_access_key, sse_customer_key */
	const char *text; /* enc:v1:... as in the file */
	struct bfs_secret *plain;
};

struct rotation {
	char *path;  /* the config file */
	char *kpath; /* its master key */
	struct bfs_config_edit *edit;
	struct bfs_config cfg;
	struct value *v;
	size_t n;
	bool needs_pending; /* a value decrypts only with kpath.new */
};

static void release_values(struct rotation *r)
{
	for (size_t i = 0; i < r->n; i++)
		bfs_secret_free(r->v[i].plain);
	free(r->v);
	r->v = NULL;
	r->n = 0;
	bfs_config_edit_free(r->edit);
	r->edit = NULL;
	bfs_config_release(&r->cfg);
	memset(&r->cfg, 0, sizeof(r->cfg));
}

static void add_value(struct rotation *r, const char *bucket, const char *key,
		      const char *text, struct bfs_secret *plain)
{
	r->v = bfs_xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n++] = (struct value){bucket, key, text, plain};
}

/*
 * Open the file for editing and decrypt every encrypted value (with the
 * pending key as fallback, as a mount would).
 */
static int collect(struct rotation *r, const struct bfs_master_key *mk)
{
	char err[1024] = "", *text;
	int rc;

	rc = bfs_config_edit_open(r->path, &r->edit, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		return rc;
	}
	text = bfs_config_edit_text(r->edit);
	rc = bfs_config_load_buffer(r->path, text, strlen(text), &r->cfg, err,
				    sizeof(err));
	free(text);
	if (rc != 0) {
		bfs_cli_error("%s", err);
		return rc;
	}
	r->cfg.path = bfs_xstrdup(r->path);
	r->needs_pending = false;
	for (size_t i = 0; i < r->cfg.nbuckets; i++) {
		const struct bfs_bucket_conf *b = &r->cfg.buckets[i];
		bool enc[2] = {bfs_secret_is_encrypted(b->access_key_id),
			       bfs_secret_is_encrypted(b->secret_access_key)};
		struct bfs_secret *plain[2] = {NULL, NULL};

		if (bfs_secret_is_encrypted(b->sse_customer_key)) {
			struct bfs_secret *sk = NULL, *probe = NULL;

			rc = bfs_bucket_sse_key(&r->cfg, b, &sk, err,
						sizeof(err));
			if (rc != 0) {
				bfs_cli_error("%s", err);
				return rc;
			}
			if (!mk ||
			    bfs_secret_decrypt(mk, b->name, b->sse_customer_key,
					       &probe, err, sizeof(err)) != 0)
				r->needs_pending = true;
			bfs_secret_free(probe);
			add_value(r, b->name, "sse_customer_key",
				  b->sse_customer_key, sk);
		}
		if (!enc[0] && !enc[1])
			continue; /* environment or plaintext: not ours */
		rc = bfs_bucket_credentials(&r->cfg, b, &plain[0], &plain[1],
					    err, sizeof(err));
		if (rc != 0) {
			bfs_cli_error("%s", err);
			return rc;
		}
		for (int k = 0; k < 2; k++) {
			const char *name =
				k ? "secret_access_key" : "access_key_id";
			const char *val =
				k ? b->secret_access_key : b->access_key_id;
			struct bfs_secret *probe = NULL;

			if (!enc[k]) {
				bfs_secret_free(plain[k]);
				continue;
			}
			if (!mk || bfs_secret_decrypt(mk, b->name, val, &probe,
						      err, sizeof(err)) != 0)
				r->needs_pending = true;
			bfs_secret_free(probe);
			add_value(r, b->name, name, val, plain[k]);
		}
	}
	return 0;
}

/* Re-encrypt every value under mk and commit the file. */
static int rewrite(struct rotation *r, const struct bfs_master_key *mk)
{
	char err[1024] = "";
	int rc = 0;

	for (size_t i = 0; i < r->n && rc == 0; i++) {
		char *section = bfs_xasprintf("bucket %s", r->v[i].bucket);
		char *text = NULL;

		rc = bfs_secret_encrypt(mk, r->v[i].bucket, r->v[i].plain->data,
					&text);
		if (rc == 0)
			rc = bfs_config_edit_set(r->edit, section, r->v[i].key,
						 text);
		if (rc != 0)
			bfs_cli_error("cannot re-encrypt %s of bucket '%s': %s",
				      r->v[i].key, r->v[i].bucket,
				      strerror(rc));
		free(text);
		free(section);
	}
	if (rc != 0)
		return rc;
	rc = bfs_config_edit_commit(r->edit, err, sizeof(err));
	if (rc != 0)
		bfs_cli_error("%s", rc == EAGAIN
					    ? "the config file changed while "
					      "the keys were rotated: run "
					      "'bucketfs key rotate' again"
					    : err);
	return rc;
}

static int rotate(const char *given)
{
	struct rotation r = {0};
	struct bfs_master_key *old = NULL, *fresh = NULL;
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	char err[1024] = "", *pending = NULL;
	size_t nvalues;
	int rc;

	r.path = bfs_cli_config_path(given);
	r.kpath = bfs_master_key_path(r.path);
	pending = bfs_xasprintf("%s.new", r.kpath);
	if (creds && creds[0] && strncmp(r.kpath, creds, strlen(creds)) == 0) {
		bfs_cli_error("the master key comes from the service's "
			      "credentials ('%s'): rotate where that "
			      "credential is made, or run 'bucketfs key "
			      "rotate --config %s' outside the service",
			      r.kpath, r.path);
		rc = EPERM;
		goto out;
	}
	bfs_cli_harden();
	rc = bfs_master_key_load(r.path, false, &old, err, sizeof(err));
	if (rc == ENOENT) {
		old = NULL;
	} else if (rc != 0) {
		bfs_cli_error("%s", err);
		goto out;
	}

	/* 0. decrypt everything; finish an interrupted rotation */
	rc = collect(&r, old);
	if (rc != 0) {
		bfs_cli_error("nothing was changed");
		goto out;
	}
	if (r.n > 0 && !old) {
		bfs_cli_error("no master key '%s' for the encrypted keys of "
			      "'%s'",
			      r.kpath, r.path);
		rc = ENOENT;
		goto out;
	}
	if (!old) {
		printf("no master key and no encrypted keys in %s: nothing "
		       "to rotate (a key is made by the first 'bucketfs "
		       "bucket connect')\n",
		       r.path);
		goto out;
	}
	if (r.needs_pending) {
		printf("an earlier rotation was interrupted: re-encrypting "
		       "under %s first\n",
		       r.kpath);
		rc = rewrite(&r, old);
		if (rc != 0)
			goto out;
		release_values(&r);
		rc = collect(&r, old);
		if (rc == 0 && r.needs_pending) {
			bfs_cli_error("a value still needs '%s'", pending);
			rc = EIO;
		}
		if (rc != 0)
			goto out;
	}

	/* 1. the new key beside the old one */
	rc = bfs_master_key_generate(&fresh);
	if (rc != 0) {
		bfs_cli_error("cannot generate a master key: %s", strerror(rc));
		goto out;
	}
	rc = bfs_master_key_write(pending, fresh, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		goto out;
	}
	/* 2. the file under the new key */
	rc = rewrite(&r, fresh);
	if (rc != 0) {
		/* the file still decrypts with the old key */
		unlink(pending);
		bfs_cli_error("nothing was changed");
		goto out;
	}
	/* 3. the new key in place */
	rc = bfs_master_key_promote(r.path, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s: the keys of %s are encrypted under '%s', "
			      "which mounts also use; run 'bucketfs key "
			      "rotate' again to finish",
			      err, r.path, pending);
		goto out;
	}
	nvalues = r.n;
	printf("rotated: %zu encrypted key%s re-encrypted under a new master "
	       "key in %s\n",
	       nvalues, nvalues == 1 ? "" : "s", r.kpath);
out:
	release_values(&r);
	bfs_master_key_free(old);
	bfs_master_key_free(fresh);
	free(pending);
	free(r.kpath);
	free(r.path);
	return rc ? 1 : 0;
}

int bfs_cli_key(int argc, char **argv)
{
	const char *given = NULL;
	const char *cmd = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			given = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			given = argv[i] + 9;
		} else if (argv[i][0] == '-' || cmd) {
			bfs_cli_error("unexpected argument '%s'", argv[i]);
			cmd = NULL;
			break;
		} else {
			cmd = argv[i];
		}
	}
	if (cmd && strcmp(cmd, "rotate") == 0)
		return rotate(given);
	bfs_cli_help(stderr, "key");
	return 2;
}
