/*
 * test_creds.c - credential sources (src/store/creds*.c) without a
 * network: the refresh of expiring keys under a counting fetch function,
 * the ISO 8601 times and JSON answers of credential services, and the
 * chain's environment, shared files and credential_process. The HTTP
 * services (IMDSv2, containers, STS) are driven by
 * tests/integration/creds_chain.sh against tests/tools/fakeaws.py.
 */
#include "compat.h"

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/creds.h"
#include "store/creds_chain.h"
#include "tap.h"

struct counter {
	int calls;
	time_t life; /* lifetime of each set handed out */
	int fail;    /* errno to fail with, or 0 */
};

static int count_fetch(void *arg, struct bfs_cred_set **out, char *err,
		       size_t errlen)
{
	struct counter *c = arg;
	char id[32];

	c->calls++;
	if (c->fail) {
		snprintf(err, errlen, "scripted failure");
		return c->fail;
	}
	snprintf(id, sizeof(id), "AKID%d", c->calls);
	*out = bfs_cred_set_new(id, "secret", "token",
				c->life ? time(NULL) + c->life : 0);
	return *out ? 0 : errno;
}

static void test_refresh(void)
{
	struct counter cnt = {.life = 3600};
	struct bfs_creds *c = bfs_creds_create("test", count_fetch, &cnt, NULL);
	struct bfs_cred_set *a = NULL, *b = NULL;
	char err[256];

	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == 0 && a &&
		       strcmp(a->access_key_id, "AKID1") == 0,
	       "first get fetches");
	tap_ok(bfs_creds_get(c, &b, err, sizeof(err)) == 0 && b == a &&
		       cnt.calls == 1,
	       "keys far from expiry are reused");
	bfs_cred_set_put(b);
	/* the set a request holds survives a refresh */
	bfs_creds_invalidate(c, a);
	tap_ok(bfs_creds_get(c, &b, err, sizeof(err)) == 0 && b != a &&
		       strcmp(b->access_key_id, "AKID2") == 0 &&
		       strcmp(a->access_key_id, "AKID1") == 0,
	       "invalidated keys are fetched again; the held set stays");
	bfs_cred_set_put(a);
	bfs_cred_set_put(b);
	bfs_creds_free(c);

	/* 20 s of life: refreshed once less than half is left (the
	 * refresh itself is seen by tests/integration/creds_chain.sh) */
	cnt = (struct counter){.life = 20};
	c = bfs_creds_create("test", count_fetch, &cnt, NULL);
	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == 0, "short-lived keys");
	bfs_cred_set_put(a);
	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == 0 && cnt.calls == 1,
	       "keys with more than half their life left are kept");
	bfs_cred_set_put(a);
	/* a failed refresh keeps valid keys */
	cnt.life = 3600;
	bfs_creds_free(c);
	cnt = (struct counter){.life = 20};
	c = bfs_creds_create("test", count_fetch, &cnt, NULL);
	bfs_creds_get(c, &a, err, sizeof(err));
	bfs_cred_set_put(a);
	cnt.fail = EIO;
	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == 0 &&
		       strcmp(a->access_key_id, "AKID1") == 0,
	       "a failed refresh goes on with keys that are still valid");
	bfs_cred_set_put(a);
	bfs_creds_free(c);

	cnt = (struct counter){.fail = EACCES};
	c = bfs_creds_create("test", count_fetch, &cnt, NULL);
	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == EACCES && !a &&
		       strstr(err, "scripted failure"),
	       "no keys and a failing fetch: the errno and the cause");
	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == EACCES &&
		       cnt.calls == 1,
	       "a failed fetch is not retried at once");
	bfs_creds_free(c);

	c = bfs_creds_failing("test", EACCES, "no keys: fix it");
	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == EACCES &&
		       strcmp(err, "no keys: fix it") == 0,
	       "a failing source fails with its message");
	bfs_creds_free(c);
}

static void test_parse(void)
{
	time_t t;

	tap_ok(bfs_creds_parse_time("2026-12-06T15:00:00Z", &t) == 0 &&
		       t == 1796569200,
	       "ISO 8601 time");
	tap_ok(bfs_creds_parse_time("2026-12-06T15:00:00.123+00:00", &t) == 0 &&
		       t == 1796569200,
	       "ISO 8601 time with fraction and offset");
	tap_ok(bfs_creds_parse_time("yesterday", &t) == EINVAL, "not a time");
}

static char dir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static int resolve(const char *profile, struct bfs_cred_set **s, char *src,
		   char *err)
{
	struct bfs_chain_conf cc = {.name = "test", .profile = profile};

	return bfs_creds_chain_resolve(&cc, s, src, 128, err, 512);
}

static void test_files(void)
{
	struct bfs_cred_set *s = NULL;
	char path[128], src[128], err[512], tok[1500];
	int rc;

	memset(tok, 'T', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	snprintf(path, sizeof(path),
		 "[default]\naws_access_key_id = DEFID\n"
		 "aws_secret_access_key = DEFSECRET\n");
	{
		char text[2048];

		snprintf(text, sizeof(text),
			 "%s\n[long]\naws_access_key_id=LONGID\n"
			 "aws_secret_access_key=LONGSECRET\n"
			 "aws_session_token=%s\n",
			 path, tok);
		write_file("credentials", text, 0600);
	}
	write_file("config",
		   "[profile proc]\n"
		   "credential_process = \"sh\" -c 'cat \"$0\"' "
		   "PROCOUT\n"
		   "region = eu-west-1\n"
		   "  s3 =\n    max_concurrent_requests = 5\n"
		   "[profile sso]\nsso_start_url = https://x\n"
		   "[profile role]\nrole_arn = arn:aws:iam::1:role/x\n",
		   0600);
	write_file("proc.json",
		   "{\"Version\": 1, \"AccessKeyId\": \"PROCID\", "
		   "\"SecretAccessKey\": \"PROCSECRET\", \"SessionToken\": "
		   "\"PROCTOKEN\", \"Expiration\": \"2099-01-01T00:00:00Z\"}",
		   0600);
	rc = resolve(NULL, &s, src, err);
	tap_ok(rc == 0 && strcmp(s->access_key_id, "DEFID") == 0 &&
		       !s->session_token &&
		       strcmp(src, "profile 'default'") == 0,
	       "profile default from the credentials file (%s)", err);
	bfs_cred_set_put(s);
	rc = resolve("long", &s, src, err);
	tap_ok(rc == 0 && s->session_token &&
		       strcmp(s->session_token, tok) == 0,
	       "a session token of %zu bytes (%s)", strlen(tok), err);
	bfs_cred_set_put(s);
	rc = resolve("proc", &s, src, err);
	tap_ok(rc == 0 && strcmp(s->access_key_id, "PROCID") == 0 &&
		       strcmp(s->session_token, "PROCTOKEN") == 0 &&
		       s->expiration == 4070908800,
	       "credential_process with quotes, its expiry (%s)", err);
	bfs_cred_set_put(s);
	rc = resolve("nosuch", &s, src, err);
	tap_ok(rc == ENOENT && strstr(err, "no profile 'nosuch'"),
	       "a named profile that does not exist is an error (%s)", err);
	rc = resolve("sso", &s, src, err);
	tap_ok(rc == ENOTSUP && strstr(err, "credential_process"),
	       "sso profiles say what to use instead");
	rc = resolve("role", &s, src, err);
	tap_ok(rc == EINVAL && strstr(err, "source_profile"),
	       "role_arn without a source says what is missing");
}

/* a fetch that blocks until released: a replace lands while it runs */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool entered, open;
};

static int gated_fetch(void *arg, struct bfs_cred_set **out, char *err,
		       size_t errlen)
{
	struct gate *g = arg;

	(void)err;
	(void)errlen;
	pthread_mutex_lock(&g->lock);
	g->entered = true;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
	*out = bfs_cred_set_new("OLDKEY", "old-secret", NULL, 0);
	return 0;
}

static void *get_main(void *arg)
{
	struct bfs_cred_set *s = NULL;

	bfs_creds_get(arg, &s, NULL, 0);
	return s;
}

static void test_replace(void)
{
	struct bfs_creds *c = bfs_creds_fixed("test", "AK1", "S1", NULL);
	struct bfs_cred_set *a = NULL, *b = NULL;
	struct counter cnt = {.life = 3600};
	struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER,
			 .cond = PTHREAD_COND_INITIALIZER};
	pthread_t t;
	void *got;
	char err[256];

	bfs_creds_get(c, &a, err, sizeof(err));
	bfs_creds_replace(c, bfs_creds_fixed("test", "AK2", "S2", NULL));
	tap_ok(bfs_creds_get(c, &b, err, sizeof(err)) == 0 &&
		       strcmp(b->access_key_id, "AK2") == 0 &&
		       strcmp(a->access_key_id, "AK1") == 0,
	       "replace: new fixed keys at once; a held set stays valid");
	bfs_cred_set_put(a);
	bfs_cred_set_put(b);
	bfs_creds_replace(c, bfs_creds_create("test", count_fetch, &cnt, NULL));
	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == 0 &&
		       strcmp(a->access_key_id, "AKID1") == 0 &&
		       bfs_creds_refreshes(c),
	       "replace: fixed keys by a fetching source");
	bfs_cred_set_put(a);
	bfs_creds_replace(c, bfs_creds_failing("test", EACCES, "gone"));
	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == EACCES &&
		       strcmp(err, "gone") == 0,
	       "replace: by a failing source");
	bfs_creds_free(c);

	/* a fetch of the old source that ends after the replace is thrown
	 * away: the waiting request gets the new keys */
	c = bfs_creds_create("test", gated_fetch, &g, NULL);
	pthread_create(&t, NULL, get_main, c);
	pthread_mutex_lock(&g.lock);
	while (!g.entered)
		pthread_cond_wait(&g.cond, &g.lock);
	pthread_mutex_unlock(&g.lock);
	bfs_creds_replace(c, bfs_creds_fixed("test", "NEWKEY", "S", NULL));
	pthread_mutex_lock(&g.lock);
	g.open = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	pthread_join(t, &got);
	a = got;
	tap_ok(a && strcmp(a->access_key_id, "NEWKEY") == 0,
	       "replace during a fetch: the old source's keys are dropped");
	bfs_cred_set_put(a);
	tap_ok(bfs_creds_get(c, &a, err, sizeof(err)) == 0 &&
		       strcmp(a->access_key_id, "NEWKEY") == 0,
	       "replace during a fetch: later gets see the new keys");
	bfs_cred_set_put(a);
	bfs_creds_free(c);
}

int main(void)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/bfs-test-creds.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	/* the chain reads the environment once: set it up first */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	snprintf(path, sizeof(path), "%s/credentials", dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	snprintf(path, sizeof(path), "%s/config", dir);
	setenv("AWS_CONFIG_FILE", path, 1);
	if (chdir(dir) != 0)
		return 1;
	test_refresh();
	test_replace();
	test_parse();
	/* PROCOUT: credential_process cats it (relative to the cwd) */
	{
		char from[128];

		snprintf(from, sizeof(from), "%s/proc.json", dir);
		snprintf(path, sizeof(path), "%s/PROCOUT", dir);
		(void)symlink(from, path);
	}
	test_files();
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			tap_diag("cannot remove %s", dir);
	}
	return tap_done();
}
