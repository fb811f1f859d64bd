/*
 * creds_chain.c - the AWS default credential provider chain (see
 * creds_chain.h): the environment snapshot, the order of the sources,
 * the shared files and their profiles, credential_process. The HTTP
 * services are in creds_remote.c.
 *
 * The shared files are parsed here rather than with inih: inih cuts
 * lines at 200 bytes (session tokens are longer) and the AWS format has
 * indented sub-properties that inih reads as continuation lines.
 */
#include "compat.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store/creds_chain.h"
#include "store/creds_remote.h"
#include "util.h"

extern char **environ;

#define MAX_FILE      (1024 * 1024)
#define MAX_PROC_OUT  (64 * 1024)
#define PROC_TIMEOUT  60 /* seconds a credential_process may take */
#define MAX_ROLE_HOPS 5
#define IMDS_DEFAULT  "http://169.254.169.254"
#define ECS_HOST      "http://169.254.170.2"

/* ---- memory for secrets read from files and pipes ------------------ */

/* A buffer in locked memory, wiped when freed. */
struct lbuf {
	char *p;
	size_t len, cap;
	size_t maplen; /* for bfs_locked_free() */
};

static int lbuf_init(struct lbuf *b, size_t cap)
{
	b->len = 0;
	b->cap = cap;
	b->p = bfs_locked_alloc(cap + 1, &b->maplen);
	return b->p ? 0 : ENOMEM;
}

static void lbuf_free(struct lbuf *b)
{
	if (!b->p)
		return;
	bfs_locked_free(b->p, b->maplen);
	b->p = NULL;
}

/* Read all of fd into b (at most b->cap bytes; more is EFBIG). */
static int lbuf_read_fd(struct lbuf *b, int fd)
{
	size_t got;
	int rc = bfs_read_full(fd, b->p + b->len, b->cap - b->len, &got);

	b->len += got;
	if (rc != 0)
		return rc;
	/* full: there may have been more, refused rather than cut */
	if (b->len == b->cap)
		return EFBIG;
	b->p[b->len] = '\0';
	return 0;
}

static int read_file(const char *path, size_t cap, struct lbuf *b)
{
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	rc = lbuf_init(b, cap);
	if (rc == 0)
		rc = lbuf_read_fd(b, fd);
	close(fd);
	if (rc != 0)
		lbuf_free(b);
	return rc;
}

static void trim_end(struct lbuf *b)
{
	while (b->len && strchr(" \t\r\n", b->p[b->len - 1]))
		b->p[--b->len] = '\0';
}

/* ---- the environment, read once ------------------------------------ */

enum env_var {
	E_PROFILE,
	E_SHARED_CREDENTIALS_FILE,
	E_CONFIG_FILE,
	E_WEB_IDENTITY_TOKEN_FILE,
	E_ROLE_ARN,
	E_ROLE_SESSION_NAME,
	E_ENDPOINT_URL_STS,
	E_ENDPOINT_URL,
	E_REGION,
	E_DEFAULT_REGION,
	E_CONTAINER_FULL_URI,
	E_CONTAINER_RELATIVE_URI,
	E_CONTAINER_TOKEN_FILE,
	E_IMDS_ENDPOINT,
	E_IMDS_DISABLED,
	E_HOME,
	E_COUNT
};

static const char *const env_names[E_COUNT] = {
	"AWS_PROFILE",
	"AWS_SHARED_CREDENTIALS_FILE",
	"AWS_CONFIG_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_ROLE_ARN",
	"AWS_ROLE_SESSION_NAME",
	"AWS_ENDPOINT_URL_STS",
	"AWS_ENDPOINT_URL",
	"AWS_REGION",
	"AWS_DEFAULT_REGION",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_DISABLED",
	"HOME",
};

/* Written once under pthread_once, read-only afterwards. */
static struct {
	char *v[E_COUNT]; /* NULL when unset or empty */
	struct bfs_cred_set *keys;
	int keys_rc;
	char keys_err[160];
	/* AWS_CONTAINER_AUTHORIZATION_TOKEN, as the "id" of a set */
	struct bfs_cred_set *container_token;
} env;

static void capture_once(void)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tok = getenv("AWS_SESSION_TOKEN");
	const char *ct = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	bool hid = id && id[0], hsk = sk && sk[0];

	bfs_creds_wiping_alloc_init();
	for (int i = 0; i < E_COUNT; i++) {
		const char *v = getenv(env_names[i]);

		env.v[i] = v && v[0] ? bfs_xstrdup(v) : NULL;
	}
	if (hid && hsk) {
		env.keys = bfs_cred_set_new(id, sk, tok, 0);
		env.keys_rc = env.keys ? 0 : errno;
	} else if (hid || hsk) {
		env.keys_rc = EINVAL;
		snprintf(env.keys_err, sizeof(env.keys_err),
			 "%s is set but %s is not (set both)",
			 hid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			 hid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	} else {
		env.keys_rc = ENOENT;
		snprintf(env.keys_err, sizeof(env.keys_err),
			 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not "
			 "set");
	}
	if (ct && ct[0])
		env.container_token = bfs_cred_set_new(ct, "-", NULL, 0);
}

void bfs_creds_env_capture(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	BFS_PCHECK(pthread_once(&once, capture_once));
}

int bfs_creds_env_keys(struct bfs_cred_set **out, char *err, size_t errlen)
{
	bfs_creds_env_capture();
	*out = NULL;
	if (env.keys_rc != 0) {
		snprintf(err, errlen, "%s", env.keys_err);
		return env.keys_rc;
	}
	/* a copy: the snapshot lives as long as the process */
	*out = bfs_cred_set_new(env.keys->access_key_id,
				env.keys->secret_access_key,
				env.keys->session_token, 0);
	return *out ? 0 : errno;
}

/* ---- shared files --------------------------------------------------- */

enum pkey {
	P_KEY_ID,
	P_SECRET,
	P_TOKEN,
	P_ROLE_ARN,
	P_SOURCE_PROFILE,
	P_CREDENTIAL_SOURCE,
	P_CREDENTIAL_PROCESS,
	P_WEB_IDENTITY_TOKEN_FILE,
	P_ROLE_SESSION_NAME,
	P_EXTERNAL_ID,
	P_DURATION,
	P_REGION,
	P_SSO_START_URL,
	P_SSO_SESSION,
	P_COUNT
};

static const char *const pkey_names[P_COUNT] = {
	"aws_access_key_id",  "aws_secret_access_key",
	"aws_session_token",  "role_arn",
	"source_profile",     "credential_source",
	"credential_process", "web_identity_token_file",
	"role_session_name",  "external_id",
	"duration_seconds",   "region",
	"sso_start_url",      "sso_session",
};

struct profile {
	bool found;
	char *v[P_COUNT]; /* wiped when freed */
};

static void profile_release(struct profile *p)
{
	for (int i = 0; i < P_COUNT; i++) {
		if (p->v[i]) {
			explicit_bzero(p->v[i], strlen(p->v[i]));
			free(p->v[i]);
			p->v[i] = NULL;
		}
	}
}

static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && strchr(" \t\r", end[-1]))
		end--;
	*end = '\0';
	return s;
}

/*
 * Take the keys of section `want` of the file text (keys already set by
 * an earlier file win, so read the credentials file first). Indented
 * lines are sub-properties (s3 = ...) and are skipped.
 */
static void parse_section(char *text, const char *want, struct profile *p)
{
	bool in = false;
	char *line = text;

	while (line && *line) {
		char *nl = strchr(line, '\n');
		char *end = nl ? nl : line + strlen(line);
		char *next = nl ? nl + 1 : NULL;
		char *s = line, *eq;

		if (*s == ' ' || *s == '\t') {
			line = next;
			continue;
		}
		s = trim(s, end);
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close) {
				char *name = trim(s + 1, close);

				in = strcmp(name, want) == 0;
				if (in)
					p->found = true;
			}
		} else if (in && *s != '#' && *s != ';' &&
			   (eq = strchr(s, '=')) != NULL) {
			char *v = trim(eq + 1, s + strlen(s));
			char *k = trim(s, eq);

			for (int i = 0; i < P_COUNT; i++)
				if (strcmp(k, pkey_names[i]) == 0 && !p->v[i] &&
				    v[0])
					p->v[i] = bfs_xstrdup(v);
		}
		line = next;
	}
}

static char *home_path(const char *rel)
{
	const char *home = env.v[E_HOME];

	if (!home)
		return NULL;
	return bfs_xasprintf("%s/%s", home, rel);
}

/* Profile `name` from both files; p->found says whether either has it. */
static void load_profile(const char *name, struct profile *p, char *files,
			 size_t fileslen)
{
	char *cred = env.v[E_SHARED_CREDENTIALS_FILE]
			     ? bfs_xstrdup(env.v[E_SHARED_CREDENTIALS_FILE])
			     : home_path(".aws/credentials");
	char *conf = env.v[E_CONFIG_FILE] ? bfs_xstrdup(env.v[E_CONFIG_FILE])
					  : home_path(".aws/config");
	struct lbuf b;

	memset(p, 0, sizeof(*p));
	snprintf(files, fileslen, "%s and %s", cred ? cred : "(no HOME)",
		 conf ? conf : "(no HOME)");
	if (cred && read_file(cred, MAX_FILE, &b) == 0) {
		parse_section(b.p, name, p);
		lbuf_free(&b);
	}
	if (conf && read_file(conf, MAX_FILE, &b) == 0) {
		char *sect = bfs_xasprintf("profile %s", name);

		parse_section(b.p, sect, p);
		if (strcmp(name, "default") == 0)
			parse_section(b.p, name, p);
		free(sect);
		lbuf_free(&b);
	}
	free(cred);
	free(conf);
}

/* ---- credential_process -------------------------------------------- */

/* Split a command line the way a shell splits plain words and quotes. */
static char **split_command(const char *cmd)
{
	size_t n = 0, cap = 8;
	char **argv = bfs_xcalloc(cap, sizeof(*argv));
	const char *s = cmd;

	for (;;) {
		char *w = bfs_xmalloc(strlen(cmd) + 1);
		size_t wl = 0;
		char q = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s) {
			free(w);
			break;
		}
		for (; *s && (q || (*s != ' ' && *s != '\t')); s++) {
			if (q && *s == q) {
				q = 0;
			} else if (!q && (*s == '"' || *s == '\'')) {
				q = *s;
			} else if (*s == '\\' && q != '\'' && s[1]) {
				w[wl++] = *++s;
			} else {
				w[wl++] = *s;
			}
		}
		w[wl] = '\0';
		if (n + 2 > cap) {
			cap *= 2;
			argv = bfs_xrealloc(argv, cap * sizeof(*argv));
		}
		argv[n++] = w;
	}
	argv[n] = NULL;
	return argv;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static int run_process(const char *cmd, const char *profile,
		       struct bfs_cred_set **out, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	char **argv = split_command(cmd);
	struct lbuf b = {0};
	int pfd[2] = {-1, -1}, st = 0, rc;
	time_t deadline = time(NULL) + PROC_TIMEOUT;
	pid_t pid = -1;

	if (!argv[0]) {
		snprintf(err, errlen,
			 "profile '%s': credential_process is "
			 "empty",
			 profile);
		rc = EINVAL;
		goto out;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0 || lbuf_init(&b, MAX_PROC_OUT) != 0) {
		rc = errno ? errno : ENOMEM;
		snprintf(err, errlen, "cannot run credential_process: %s",
			 strerror(rc));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	pfd[1] = -1;
	if (rc != 0) {
		snprintf(err, errlen,
			 "profile '%s': cannot run credential_process '%s': "
			 "%s",
			 profile, argv[0], strerror(rc));
		pid = -1;
		goto out;
	}
	for (;;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		time_t now = time(NULL);
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			snprintf(err, errlen,
				 "profile '%s': credential_process '%s' did "
				 "not finish in %d s",
				 profile, argv[0], PROC_TIMEOUT);
			rc = ETIMEDOUT;
			goto out;
		}
		if (poll(&p, 1, (int)(deadline - now) * 1000) <= 0)
			continue;
		if (b.len == b.cap) {
			kill(pid, SIGKILL);
			snprintf(err, errlen,
				 "profile '%s': credential_process '%s' wrote "
				 "more than %d bytes",
				 profile, argv[0], MAX_PROC_OUT);
			rc = EFBIG;
			goto out;
		}
		n = read(pfd[0], b.p + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b.len += (size_t)n;
	}
	b.p[b.len] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen,
			 "profile '%s': credential_process '%s' failed "
			 "(exit status %d)",
			 profile, argv[0],
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		rc = EACCES;
		goto out;
	}
	rc = bfs_creds_parse_json(b.p, b.len, "credential_process", out, err,
				  errlen);
out:
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	lbuf_free(&b);
	free_argv(argv);
	return rc;
}

/* ---- the chain ------------------------------------------------------ */

struct chain {
	char *name;
	char *profile; /* the bucket's, or NULL */
	char *region;  /* the bucket's, or NULL */
	char *ca_file;
	struct bfs_creds_net net;
};

static const char *sts_region(const struct chain *c, const struct profile *p)
{
	if (p && p->v[P_REGION])
		return p->v[P_REGION];
	if (env.v[E_REGION])
		return env.v[E_REGION];
	if (env.v[E_DEFAULT_REGION])
		return env.v[E_DEFAULT_REGION];
	if (c->region && strcmp(c->region, "auto") != 0)
		return c->region;
	return "us-east-1";
}

static char *sts_url(const char *region)
{
	if (env.v[E_ENDPOINT_URL_STS])
		return bfs_xstrdup(env.v[E_ENDPOINT_URL_STS]);
	if (env.v[E_ENDPOINT_URL])
		return bfs_xstrdup(env.v[E_ENDPOINT_URL]);
	return bfs_xasprintf("https://sts.%s.amazonaws.com", region);
}

static char *session_name(const char *given)
{
	if (given)
		return bfs_xstrdup(given);
	return bfs_xasprintf("bucketfs-%lld", (long long)time(NULL));
}

static int web_identity(const struct chain *c, const char *token_file,
			const char *role_arn, const char *sess,
			const struct profile *p, struct bfs_cred_set **out,
			char *err, size_t errlen)
{
	const char *region = sts_region(c, p);
	char *url = sts_url(region), *name = session_name(sess);
	struct lbuf tok;
	int rc;

	rc = read_file(token_file, MAX_FILE, &tok);
	if (rc != 0) {
		snprintf(err, errlen,
			 "cannot read the web identity token file '%s': %s",
			 token_file, strerror(rc));
		goto out;
	}
	trim_end(&tok);
	rc = bfs_creds_sts_web_identity(url, role_arn, name, tok.p, &c->net,
					out, err, errlen);
	lbuf_free(&tok);
out:
	free(url);
	free(name);
	return rc;
}

static bool container_url_ok(const char *url)
{
	static const char *const ok[] = {"https://",
					 "http://127.",
					 "http://localhost:",
					 "http://localhost/",
					 "http://[::1]",
					 "http://169.254.170.2:",
					 "http://169.254.170.2/",
					 "http://169.254.170.23:",
					 "http://169.254.170.23/",
					 "http://[fd00:ec2::23]"};

	for (size_t i = 0; i < BFS_ARRAY_SIZE(ok); i++)
		if (strncmp(url, ok[i], strlen(ok[i])) == 0)
			return true;
	return strcmp(url, "http://localhost") == 0;
}

static int container(const struct chain *c, struct bfs_cred_set **out,
		     char *err, size_t errlen)
{
	char *url;
	struct lbuf tok = {0};
	const char *auth = NULL;
	int rc;

	if (env.v[E_CONTAINER_RELATIVE_URI])
		url = bfs_xasprintf("%s%s", ECS_HOST,
				    env.v[E_CONTAINER_RELATIVE_URI]);
	else
		url = bfs_xstrdup(env.v[E_CONTAINER_FULL_URI]);
	if (!env.v[E_CONTAINER_RELATIVE_URI] && !container_url_ok(url)) {
		snprintf(err, errlen,
			 "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' is neither "
			 "https:// nor a loopback or container host",
			 url);
		rc = EINVAL;
		goto out;
	}
	if (env.v[E_CONTAINER_TOKEN_FILE]) {
		rc = read_file(env.v[E_CONTAINER_TOKEN_FILE], MAX_FILE, &tok);
		if (rc != 0) {
			snprintf(err, errlen,
				 "cannot read "
				 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
				 "'%s': %s",
				 env.v[E_CONTAINER_TOKEN_FILE], strerror(rc));
			goto out;
		}
		trim_end(&tok);
		auth = tok.p;
	} else if (env.container_token) {
		auth = env.container_token->access_key_id;
	}
	rc = bfs_creds_container(url, auth, &c->net, out, err, errlen);
out:
	lbuf_free(&tok);
	free(url);
	return rc;
}

static int imds(const struct chain *c, struct bfs_cred_set **out, char *err,
		size_t errlen)
{
	struct bfs_creds_net net = c->net;

	/* on a machine that is not an EC2 instance this is what fails:
	 * fail fast, as the SDKs do */
	if (net.connect_timeout > 1)
		net.connect_timeout = 1;
	return bfs_creds_imds(env.v[E_IMDS_ENDPOINT] ? env.v[E_IMDS_ENDPOINT]
						     : IMDS_DEFAULT,
			      &net, out, err, errlen);
}

static int from_profile(const struct chain *c, const char *name, int hops,
			struct bfs_cred_set **out, char *src, size_t srclen,
			char *err, size_t errlen);

/* role_arn of profile p: the source keys, then AssumeRole. */
static int assume_role(const struct chain *c, const char *name,
		       const struct profile *p, int hops,
		       struct bfs_cred_set **out, char *err, size_t errlen)
{
	struct bfs_cred_set *base = NULL;
	const char *cs = p->v[P_CREDENTIAL_SOURCE];
	const char *region = sts_region(c, p);
	char *url, *sess;
	char dummy[64];
	int rc;

	if (p->v[P_WEB_IDENTITY_TOKEN_FILE])
		return web_identity(c, p->v[P_WEB_IDENTITY_TOKEN_FILE],
				    p->v[P_ROLE_ARN], p->v[P_ROLE_SESSION_NAME],
				    p, out, err, errlen);
	if (p->v[P_SOURCE_PROFILE]) {
		if (hops >= MAX_ROLE_HOPS) {
			snprintf(err, errlen,
				 "profile '%s': source_profile goes through "
				 "more than %d roles (a loop?)",
				 name, MAX_ROLE_HOPS);
			return ELOOP;
		}
		if (strcmp(p->v[P_SOURCE_PROFILE], name) == 0 &&
		    p->v[P_KEY_ID] && p->v[P_SECRET]) {
			base = bfs_cred_set_new(p->v[P_KEY_ID], p->v[P_SECRET],
						p->v[P_TOKEN], 0);
			rc = base ? 0 : errno;
		} else {
			rc = from_profile(c, p->v[P_SOURCE_PROFILE], hops + 1,
					  &base, dummy, sizeof(dummy), err,
					  errlen);
		}
	} else if (cs && strcmp(cs, "Environment") == 0) {
		rc = bfs_creds_env_keys(&base, err, errlen);
	} else if (cs && strcmp(cs, "Ec2InstanceMetadata") == 0) {
		rc = imds(c, &base, err, errlen);
	} else if (cs && strcmp(cs, "EcsContainer") == 0) {
		rc = env.v[E_CONTAINER_RELATIVE_URI] ||
				     env.v[E_CONTAINER_FULL_URI]
			     ? container(c, &base, err, errlen)
			     : ENOENT;
		if (rc == ENOENT)
			snprintf(err, errlen,
				 "profile '%s': credential_source "
				 "EcsContainer, but "
				 "AWS_CONTAINER_CREDENTIALS_*_URI is not set",
				 name);
	} else {
		snprintf(err, errlen,
			 "profile '%s' has role_arn but no source_profile, "
			 "credential_source (Environment, Ec2InstanceMetadata, "
			 "EcsContainer) or web_identity_token_file",
			 name);
		return EINVAL;
	}
	if (rc != 0)
		return rc;
	url = sts_url(region);
	sess = session_name(p->v[P_ROLE_SESSION_NAME]);
	rc = bfs_creds_sts_assume_role(
		url, region, base, p->v[P_ROLE_ARN], sess, p->v[P_EXTERNAL_ID],
		p->v[P_DURATION], &c->net, out, err, errlen);
	free(url);
	free(sess);
	bfs_cred_set_put(base);
	return rc;
}

/* ENOENT: the files have no such profile (err says where we looked). */
static int from_profile(const struct chain *c, const char *name, int hops,
			struct bfs_cred_set **out, char *src, size_t srclen,
			char *err, size_t errlen)
{
	struct profile p;
	char files[512];
	int rc;

	load_profile(name, &p, files, sizeof(files));
	if (!p.found) {
		snprintf(err, errlen, "no profile '%.128s' in %.300s", name,
			 files);
		rc = ENOENT;
		goto out;
	}
	snprintf(src, srclen, "profile '%s'", name);
	if (p.v[P_ROLE_ARN]) {
		rc = assume_role(c, name, &p, hops, out, err, errlen);
	} else if (p.v[P_KEY_ID] && p.v[P_SECRET]) {
		*out = bfs_cred_set_new(p.v[P_KEY_ID], p.v[P_SECRET],
					p.v[P_TOKEN], 0);
		rc = *out ? 0 : errno;
	} else if (p.v[P_KEY_ID] || p.v[P_SECRET]) {
		snprintf(err, errlen,
			 "profile '%s' has only one of aws_access_key_id and "
			 "aws_secret_access_key",
			 name);
		rc = EINVAL;
	} else if (p.v[P_CREDENTIAL_PROCESS]) {
		rc = run_process(p.v[P_CREDENTIAL_PROCESS], name, out, err,
				 errlen);
	} else if (p.v[P_SSO_START_URL] || p.v[P_SSO_SESSION]) {
		snprintf(err, errlen,
			 "profile '%s' uses IAM Identity Center (sso_*), "
			 "which bucketfs does not read: use credential_process "
			 "= aws configure export-credentials --profile %s "
			 "--format process",
			 name, name);
		rc = ENOTSUP;
	} else {
		snprintf(err, errlen,
			 "profile '%.128s' in %.300s has no credentials", name,
			 files);
		rc = EACCES;
	}
out:
	profile_release(&p);
	return rc;
}

static int chain_fetch_src(const struct chain *c, struct bfs_cred_set **out,
			   char *src, size_t srclen, char *err, size_t errlen)
{
	const char *profile;
	char perr[512] = "";
	int rc;

	bfs_creds_env_capture();
	*out = NULL;
	/* 1. environment */
	if (env.keys_rc != ENOENT) {
		snprintf(src, srclen, "environment");
		return bfs_creds_env_keys(out, err, errlen);
	}
	/* 2. web identity */
	if (env.v[E_WEB_IDENTITY_TOKEN_FILE] && env.v[E_ROLE_ARN]) {
		snprintf(src, srclen, "web identity");
		return web_identity(
			c, env.v[E_WEB_IDENTITY_TOKEN_FILE], env.v[E_ROLE_ARN],
			env.v[E_ROLE_SESSION_NAME], NULL, out, err, errlen);
	}
	/* 3. shared files */
	profile = c->profile ? c->profile : env.v[E_PROFILE];
	rc = from_profile(c, profile ? profile : "default", 0, out, src, srclen,
			  perr, sizeof(perr));
	if (rc != ENOENT || profile) {
		if (rc)
			snprintf(err, errlen, "%s", perr);
		return rc;
	}
	/* 4. container */
	if (env.v[E_CONTAINER_RELATIVE_URI] || env.v[E_CONTAINER_FULL_URI]) {
		snprintf(src, srclen, "container credentials");
		return container(c, out, err, errlen);
	}
	/* 5. IMDSv2 */
	if (env.v[E_IMDS_DISABLED] &&
	    strcasecmp(env.v[E_IMDS_DISABLED], "true") == 0) {
		snprintf(err, errlen,
			 "no credentials: AWS_ACCESS_KEY_ID is not set, no web "
			 "identity, %.200s, no container credentials, and "
			 "AWS_EC2_METADATA_DISABLED is true",
			 perr);
		return EACCES;
	}
	snprintf(src, srclen, "IMDSv2");
	rc = imds(c, out, err, errlen);
	if (rc != 0) {
		char ierr[512];

		snprintf(ierr, sizeof(ierr), "%s", err);
		snprintf(err, errlen,
			 "no credentials: AWS_ACCESS_KEY_ID is not set, no web "
			 "identity, %.200s, no container credentials, and "
			 "%.200s",
			 perr, ierr);
		if (rc == ETIMEDOUT || rc == EIO || rc == ENOENT)
			rc = EACCES;
	}
	return rc;
}

static int chain_fetch(void *arg, struct bfs_cred_set **out, char *err,
		       size_t errlen)
{
	struct chain *c = arg;
	char src[128] = "";
	int rc;

	rc = chain_fetch_src(c, out, src, sizeof(src), err, errlen);
	if (rc == 0)
		bfs_log(LOG_INFO, "%s: credentials from %s%s", c->name, src,
			(*out)->expiration ? ", temporary" : "");
	return rc;
}

static struct chain *chain_new(const struct bfs_chain_conf *conf)
{
	struct chain *c = bfs_xcalloc(1, sizeof(*c));

	c->name = bfs_xstrdup(conf->name ? conf->name : "credentials");
	c->profile = conf->profile ? bfs_xstrdup(conf->profile) : NULL;
	c->region = conf->region ? bfs_xstrdup(conf->region) : NULL;
	c->ca_file = conf->ca_file ? bfs_xstrdup(conf->ca_file) : NULL;
	c->net.ca_file = c->ca_file;
	c->net.connect_timeout =
		conf->connect_timeout > 0 ? conf->connect_timeout : 2;
	c->net.request_timeout =
		conf->request_timeout > 0 ? conf->request_timeout : 10;
	return c;
}

static void chain_free(void *arg)
{
	struct chain *c = arg;

	free(c->name);
	free(c->profile);
	free(c->region);
	free(c->ca_file);
	free(c);
}

struct bfs_creds *bfs_creds_chain(const struct bfs_chain_conf *conf)
{
	struct chain *c = chain_new(conf);

	bfs_creds_env_capture();
	return bfs_creds_create(c->name, chain_fetch, c, chain_free);
}

int bfs_creds_chain_resolve(const struct bfs_chain_conf *conf,
			    struct bfs_cred_set **out, char *source,
			    size_t sourcelen, char *err, size_t errlen)
{
	struct chain *c = chain_new(conf);
	char src[128] = "";
	int rc;

	rc = chain_fetch_src(c, out, src, sizeof(src), err, errlen);
	if (source && sourcelen)
		snprintf(source, sourcelen, "%s", src);
	chain_free(c);
	return rc;
}
