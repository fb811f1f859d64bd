/*
 * bucket.c - `bucketfs bucket connect|update|test|list|show|remove`: the
 * [bucket NAME] sections of the configuration and their keys.
 *
 * Keys come from a prompt without echo, from stdin (--keys-from-stdin)
 * or from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, never from argv.
 * They are read straight into locked memory (struct bfs_secret), tested,
 * encrypted with the master key beside the config file, and wiped. The
 * process is made non-dumpable before the first key is read. Every
 * change of the file is checked by loading the edited text before it
 * replaces the file (config_write.h).
 */
#include "compat.h"

#include <limits.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli_priv.h"
#include "cli/conntest.h"
#include "conf.h"
#include "config_write.h"
#include "secret.h"
#include "store/creds_chain.h"
#include "store/providers.h"

char *bfs_cli_config_path(const char *given)
{
	char cwd[PATH_MAX];
	char *p = given ? bfs_xstrdup(given) : bfs_config_default_path();
	char *abs;

	if (p[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return p;
	abs = bfs_xasprintf("%s/%s", cwd, p);
	free(p);
	return abs;
}

int bfs_cli_config_load(const char *given, struct bfs_config *cfg)
{
	char err[1024] = "";
	char *path = given ? bfs_cli_config_path(given) : NULL;
	int rc = bfs_config_load(path, cfg, err, sizeof(err));

	if (rc != 0)
		bfs_cli_error("%s", err);
	free(path);
	return rc;
}

/* ---- reading keys ------------------------------------------------------ */

static struct termios saved_tty;
static volatile sig_atomic_t tty_saved;

/* A signal during the prompt must not leave the terminal without echo. */
static void restore_tty(int sig)
{
	if (tty_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

static void echo_off(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tty) != 0)
		return;
	tty_saved = 1;
	for (size_t i = 0; i < BFS_ARRAY_SIZE(tty_signals); i++)
		signal(tty_signals[i], restore_tty);
	t = saved_tty;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	tcsetattr(STDIN_FILENO, TCSADRAIN, &t); /* keep typed-ahead lines */
}

static void echo_on(void)
{
	if (tty_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	tty_saved = 0;
	for (size_t i = 0; i < BFS_ARRAY_SIZE(tty_signals); i++)
		signal(tty_signals[i], SIG_DFL);
}

/*
 * Read one line of fd into a new secret, without blanks around it. The
 * bytes go one at a time into locked memory: no stdio buffer ever holds
 * them.
 * @return 0, ENODATA (end of input or an empty line), E2BIG, ENOMEM or
 *         the errno of read.
 */
static int read_secret_line(int fd, struct bfs_secret **out)
{
	static const char zeros[BFS_SECRET_MAX + 1];
	struct bfs_secret *buf;
	size_t n = 0, start = 0;
	int rc = 0;
	char c;

	*out = NULL;
	buf = bfs_secret_new(zeros, sizeof(zeros) - 1);
	if (!buf)
		return ENOMEM;
	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = errno;
			goto out;
		}
		if (r == 0 || c == '\n')
			break;
		if (n == BFS_SECRET_MAX) {
			rc = E2BIG;
			goto out;
		}
		buf->data[n++] = c;
	}
	c = 0;
	while (n > 0 && strchr(" \t\r", buf->data[n - 1]))
		n--;
	while (start < n && strchr(" \t", buf->data[start]))
		start++;
	if (start == n) {
		rc = ENODATA;
		goto out;
	}
	*out = bfs_secret_new(buf->data + start, n - start);
	if (!*out)
		rc = errno ? errno : ENOMEM;
out:
	bfs_secret_free(buf);
	return rc;
}

/*
 * Read the key pair: from stdin (--keys-from-stdin), else from
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (said on stderr), else by
 * asking on the terminal. The error is printed.
 * @return 0 or EINVAL.
 */
static int read_keys(bool from_stdin, struct bfs_secret **akid,
		     struct bfs_secret **secret)
{
	const char *env_id = getenv("AWS_ACCESS_KEY_ID");
	const char *env_sk = getenv("AWS_SECRET_ACCESS_KEY");
	bool have_id = env_id && env_id[0], have_sk = env_sk && env_sk[0];
	const char *what = "access key id";
	int rc;

	*akid = *secret = NULL;
	if (!from_stdin && (have_id || have_sk)) {
		if (!have_id || !have_sk) {
			bfs_cli_error("%s is set but %s is not (set both, or "
				      "use --keys-from-stdin)",
				      have_id ? "AWS_ACCESS_KEY_ID"
					      : "AWS_SECRET_ACCESS_KEY",
				      have_id ? "AWS_SECRET_ACCESS_KEY"
					      : "AWS_ACCESS_KEY_ID");
			return EINVAL;
		}
		*akid = bfs_secret_new(env_id, strlen(env_id));
		*secret = *akid ? bfs_secret_new(env_sk, strlen(env_sk)) : NULL;
		bfs_secret_scrub_environment();
		if (!*secret) {
			bfs_secret_free(*akid);
			*akid = NULL;
			bfs_cli_error("cannot keep the keys from the "
				      "environment: a key is too long");
			return EINVAL;
		}
		fprintf(stderr, "bucketfs: using the keys of AWS_ACCESS_KEY_ID "
				"and AWS_SECRET_ACCESS_KEY\n");
		return 0;
	}
	if (!from_stdin && !isatty(STDIN_FILENO)) {
		bfs_cli_error("no keys: give them with --keys-from-stdin (two "
			      "lines: access key id, then secret access key), "
			      "in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
			      "or run this on a terminal to be asked");
		return EINVAL;
	}
	/* The key id is echoed, as AWS's own tools do: it names the key and
	 * is no secret, and a typo in it is otherwise invisible. */
	if (!from_stdin)
		fprintf(stderr, "Access key id: ");
	rc = read_secret_line(STDIN_FILENO, akid);
	if (rc == 0) {
		what = "secret access key";
		if (!from_stdin) {
			echo_off();
			fprintf(stderr, "Secret access key (not echoed): ");
		}
		rc = read_secret_line(STDIN_FILENO, secret);
	}
	if (!from_stdin)
		echo_on();
	if (rc != 0) {
		bfs_secret_free(*akid);
		*akid = NULL;
		bfs_cli_error("cannot read the %s%s: %s", what,
			      from_stdin ? " from stdin" : "",
			      rc == ENODATA ? "empty or missing line"
			      : rc == E2BIG ? "longer than any key"
					    : strerror(rc));
		return rc;
	}
	return 0;
}

/* ---- arguments --------------------------------------------------------- */

struct bucket_args {
	const char *config;
	const char *pos[3];
	int npos;
	const char *provider, *bucket, *region, *endpoint, *account_id, *prefix;
	const char *credentials, *profile;
	/* options of the section (bucketfs.conf(5)); "" unsets on update */
	const char *sse, *sse_kms_key_id, *sse_key_file, *storage_class;
	const char *ca_bundle, *proxy;
	bool path_style, allow_insecure, requester_pays;
	bool no_path_style, no_allow_insecure, no_requester_pays;
	bool no_test, keys_from_stdin, write;
	bool new_keys;	   /* update: ask for keys even with other options */
	bool connect_opts; /* any option only connect and update take */
	bool field_opts;   /* any option that changes a field of the section */
};

static void bucket_usage(void)
{
	bfs_cli_help(stderr, "bucket");
}

static int parse_args(int argc, char **argv, struct bucket_args *a)
{
	static const struct {
		const char *name;
		size_t off;
		bool connect, field;
	} valued[] = {
		{"--config", offsetof(struct bucket_args, config), false,
		 false},
		{"--provider", offsetof(struct bucket_args, provider), true,
		 true},
		{"--bucket", offsetof(struct bucket_args, bucket), true, true},
		{"--region", offsetof(struct bucket_args, region), true, true},
		{"--endpoint", offsetof(struct bucket_args, endpoint), true,
		 true},
		{"--account-id", offsetof(struct bucket_args, account_id), true,
		 true},
		{"--prefix", offsetof(struct bucket_args, prefix), true, true},
		{"--credentials", offsetof(struct bucket_args, credentials),
		 true, true},
		{"--profile", offsetof(struct bucket_args, profile), true,
		 true},
		{"--sse", offsetof(struct bucket_args, sse), true, true},
		{"--sse-kms-key-id",
		 offsetof(struct bucket_args, sse_kms_key_id), true, true},
		{"--sse-customer-key-file",
		 offsetof(struct bucket_args, sse_key_file), true, true},
		{"--storage-class", offsetof(struct bucket_args, storage_class),
		 true, true},
		{"--ca-bundle", offsetof(struct bucket_args, ca_bundle), true,
		 true},
		{"--proxy", offsetof(struct bucket_args, proxy), true, true},
	};
	static const struct {
		const char *name;
		size_t off;
		bool connect, field;
	} flags[] = {
		{"--path-style", offsetof(struct bucket_args, path_style), true,
		 true},
		{"--allow-insecure",
		 offsetof(struct bucket_args, allow_insecure), true, true},
		{"--requester-pays",
		 offsetof(struct bucket_args, requester_pays), true, true},
		{"--no-path-style", offsetof(struct bucket_args, no_path_style),
		 true, true},
		{"--no-allow-insecure",
		 offsetof(struct bucket_args, no_allow_insecure), true, true},
		{"--no-requester-pays",
		 offsetof(struct bucket_args, no_requester_pays), true, true},
		{"--no-test", offsetof(struct bucket_args, no_test), true,
		 false},
		{"--keys-from-stdin",
		 offsetof(struct bucket_args, keys_from_stdin), true, false},
		{"--new-keys", offsetof(struct bucket_args, new_keys), true,
		 false},
		{"--write", offsetof(struct bucket_args, write), false, false},
	};

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		bool done = false;

		for (size_t k = 0; k < BFS_ARRAY_SIZE(valued) && !done; k++) {
			size_t n = strlen(valued[k].name);
			const char **slot =
				(const char **)((char *)a + valued[k].off);

			if (strncmp(arg, valued[k].name, n) != 0)
				continue;
			if (arg[n] == '=') {
				*slot = arg + n + 1;
			} else if (arg[n] == '\0') {
				if (i + 1 >= argc) {
					bfs_cli_error("%s needs a value", arg);
					return EINVAL;
				}
				*slot = argv[++i];
			} else {
				continue;
			}
			a->connect_opts |= valued[k].connect;
			a->field_opts |= valued[k].field;
			done = true;
		}
		for (size_t k = 0; k < BFS_ARRAY_SIZE(flags) && !done; k++) {
			if (strcmp(arg, flags[k].name) != 0)
				continue;
			*(bool *)((char *)a + flags[k].off) = true;
			a->connect_opts |= flags[k].connect;
			a->field_opts |= flags[k].field;
			done = true;
		}
		if (done)
			continue;
		if (arg[0] == '-' && arg[1]) {
			bfs_cli_error("unknown option '%s'", arg);
			bucket_usage();
			return EINVAL;
		}
		if (a->npos == (int)BFS_ARRAY_SIZE(a->pos)) {
			bfs_cli_error("too many arguments: '%s'", arg);
			return EINVAL;
		}
		a->pos[a->npos++] = arg;
	}
	return 0;
}

static const struct bfs_bucket_conf *find_bucket(const struct bfs_config *cfg,
						 const char *name)
{
	const struct bfs_bucket_conf *b = bfs_config_bucket(cfg, name);

	if (!b)
		bfs_cli_error("unknown bucket '%s' (see 'bucketfs bucket "
			      "list')",
			      name);
	return b;
}

/* ---- connect ----------------------------------------------------------- */

/*
 * What each provider needs besides the bucket: the one table connect,
 * its guide and update check a section against.
 */
static const struct provider_info {
	const char *name, *menu;
	const char *option; /* the field it needs, or NULL */
	const char *value;  /* its placeholder in messages */
	size_t off;	    /* of that field in struct bucket_args */
	const char *why;    /* what the field is */
	const char *ask;    /* the guide's question */
} providers[] = {
	{"s3", "Amazon S3", "--region", "R",
	 offsetof(struct bucket_args, region), "such as us-east-1",
	 "Region (such as us-east-1)"},
	{"r2", "Cloudflare R2", "--account-id", "ID",
	 offsetof(struct bucket_args, account_id),
	 "the 32 hex digits of your Cloudflare account",
	 "Cloudflare account id (32 hex digits)"},
	{"gcs", "Google Cloud Storage (HMAC keys)", NULL, NULL, 0, NULL, NULL},
	{"custom", "any S3-compatible endpoint (MinIO, Ceph RGW, ...)",
	 "--endpoint", "URL", offsetof(struct bucket_args, endpoint),
	 "such as http://127.0.0.1:9000",
	 "Endpoint URL (such as http://127.0.0.1:9000)"},
};

static const struct provider_info *provider_info(const char *name)
{
	for (size_t i = 0; name && i < BFS_ARRAY_SIZE(providers); i++)
		if (strcmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

static const char **arg_field(const struct bucket_args *a, size_t off)
{
	return (const char **)((char *)a + off);
}

/* The field the provider of a needs and a lacks, or NULL. */
static const struct provider_info *provider_missing(const struct bucket_args *a)
{
	const struct provider_info *p = provider_info(a->provider);

	if (p && p->option && !*arg_field(a, p->off))
		return p;
	return NULL;
}

/* "--region R for s3, --account-id ID for r2, ...": for messages. */
static void provider_needs_text(char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < BFS_ARRAY_SIZE(providers) && n < outlen; i++) {
		if (!providers[i].option)
			continue;
		n += (size_t)snprintf(out + n, outlen - n, "%s%s %s for %s",
				      n ? ", " : "", providers[i].option,
				      providers[i].value, providers[i].name);
	}
}

/*
 * The fields of a section as connect or update would write them: the
 * provider known, the fields it needs present, the credentials and
 * options consistent. For update, a holds the merged section.
 * @return 0, or EINVAL with the message printed.
 */
static int check_fields(const struct bucket_args *a, const char *cmd)
{
	const struct provider_info *p = provider_info(a->provider);
	const struct provider_info *miss;

	if (!a->provider) {
		bfs_cli_error("bucket %s needs --provider (s3, r2, gcs or "
			      "custom)",
			      cmd);
		return EINVAL;
	}
	if (!p) {
		bfs_cli_error("unknown provider '%s' (s3, r2, gcs or custom)",
			      a->provider);
		return EINVAL;
	}
	if (!a->bucket) {
		bfs_cli_error("bucket %s needs --bucket (the name of the "
			      "bucket at the provider)",
			      cmd);
		return EINVAL;
	}
	miss = provider_missing(a);
	if (miss) {
		bfs_cli_error("provider %s needs %s (%s)", miss->name,
			      miss->option, miss->why);
		return EINVAL;
	}
	return 0;
}

/* Options that contradict each other, whatever the section holds. */
static int check_options(const struct bucket_args *a)
{
	if ((a->path_style && a->no_path_style) ||
	    (a->allow_insecure && a->no_allow_insecure) ||
	    (a->requester_pays && a->no_requester_pays)) {
		bfs_cli_error("an option and its --no- form were both given");
		return EINVAL;
	}
	if (a->credentials && a->credentials[0] &&
	    strcmp(a->credentials, "keys") != 0 &&
	    strcmp(a->credentials, "chain") != 0 &&
	    strcmp(a->credentials, "anonymous") != 0) {
		bfs_cli_error("unknown --credentials '%s' (keys, chain or "
			      "anonymous)",
			      a->credentials);
		return EINVAL;
	}
	if (a->profile && a->profile[0] && a->credentials &&
	    strcmp(a->credentials, "chain") != 0) {
		bfs_cli_error("--profile goes with --credentials chain (the "
			      "profile of the AWS shared files)");
		return EINVAL;
	}
	if ((a->keys_from_stdin || a->new_keys) && a->credentials &&
	    strcmp(a->credentials, "keys") != 0) {
		bfs_cli_error("keys are read only for --credentials keys");
		return EINVAL;
	}
	if (a->sse_key_file && a->sse && strcmp(a->sse, "c") != 0) {
		bfs_cli_error("--sse-customer-key-file goes with --sse c");
		return EINVAL;
	}
	if (a->provider && !provider_info(a->provider)) {
		bfs_cli_error("unknown provider '%s' (s3, r2, gcs or custom)",
			      a->provider);
		return EINVAL;
	}
	return 0;
}

static int check_connect_args(const struct bucket_args *a, const char *name)
{
	char why[256];

	if (bfs_config_check_name(name, why, sizeof(why)) != 0) {
		bfs_cli_error("bad bucket name '%s': %s", name, why);
		return EINVAL;
	}
	if (strcmp(name, "builtin") == 0) {
		bfs_cli_error("the name 'builtin' is taken by the local "
			      "builtin bucket: choose another name");
		return EINVAL;
	}
	if (check_options(a) != 0)
		return EINVAL;
	if (a->sse_key_file && !a->sse) {
		bfs_cli_error("--sse-customer-key-file goes with --sse c");
		return EINVAL;
	}
	return check_fields(a, "connect");
}

/*
 * The fields a gives, into the section: a value replaces the one there,
 * an empty value ("--proxy ''") removes the key, and a change that makes
 * other keys meaningless removes those (keys under chain or anonymous,
 * a KMS key id without sse = kms, a customer key without sse = c).
 */
static int set_fields(struct bfs_config_edit *e, const char *section,
		      const struct bucket_args *a)
{
	char *ca = a->ca_bundle && a->ca_bundle[0]
			   ? bfs_cli_config_path(a->ca_bundle)
			   : NULL;
	const struct {
		const char *key, *value;
	} kv[] = {
		{"provider", a->provider},
		{"bucket", a->bucket},
		{"region", a->region},
		{"endpoint", a->endpoint},
		{"account_id", a->account_id},
		{"prefix", a->prefix},
		{"path_style", a->path_style	  ? "true"
			       : a->no_path_style ? "false"
						  : NULL},
		{"allow_insecure", a->allow_insecure	  ? "true"
				   : a->no_allow_insecure ? "false"
							  : NULL},
		{"credentials", a->credentials},
		{"profile", a->profile},
		{"sse", a->sse},
		{"sse_kms_key_id", a->sse_kms_key_id},
		{"storage_class", a->storage_class},
		{"requester_pays", a->requester_pays	  ? "true"
				   : a->no_requester_pays ? "false"
							  : NULL},
		{"ca_bundle", ca ? ca : a->ca_bundle},
		{"proxy", a->proxy},
	};
	int rc = 0;

	for (size_t i = 0; i < BFS_ARRAY_SIZE(kv) && rc == 0; i++) {
		if (!kv[i].value)
			continue;
		if (!kv[i].value[0]) {
			bfs_config_edit_unset(e, section, kv[i].key);
			continue;
		}
		if (bfs_config_edit_set(e, section, kv[i].key, kv[i].value) !=
		    0) {
			bfs_cli_error("bad value for %s: '%s'", kv[i].key,
				      kv[i].value);
			rc = EINVAL;
		}
	}
	free(ca);
	if (a->credentials && (strcmp(a->credentials, "chain") == 0 ||
			       strcmp(a->credentials, "anonymous") == 0)) {
		bfs_config_edit_unset(e, section, "access_key_id");
		bfs_config_edit_unset(e, section, "secret_access_key");
	}
	if (a->credentials && strcmp(a->credentials, "chain") != 0 &&
	    !a->profile)
		bfs_config_edit_unset(e, section, "profile");
	if (a->sse && strcmp(a->sse, "kms") != 0 && !a->sse_kms_key_id)
		bfs_config_edit_unset(e, section, "sse_kms_key_id");
	if (a->sse && strcmp(a->sse, "c") != 0)
		bfs_config_edit_unset(e, section, "sse_customer_key");
	return rc;
}

/*
 * A bucket_args view of a parsed section, for check_fields() on what
 * update would write.
 */
static void args_of_section(const struct bfs_bucket_conf *b,
			    struct bucket_args *out)
{
	memset(out, 0, sizeof(*out));
	out->provider = bfs_provider_name(b->provider);
	out->bucket = b->bucket;
	out->region = b->region;
	out->endpoint = b->endpoint;
	out->account_id = b->account_id;
}

/* Parse the edit's text as the file would be. */
static int parse_edit(const struct bfs_config_edit *e, const char *path,
		      struct bfs_config *cfg, const char *what)
{
	char *text = bfs_config_edit_text(e);
	char err[1024] = "";
	int rc;

	rc = bfs_config_load_buffer(path, text, strlen(text), cfg, err,
				    sizeof(err));
	free(text);
	if (rc != 0)
		bfs_cli_error("%s: %s", what, err);
	else /* the master key is the one beside this file */
		cfg->path = bfs_xstrdup(path);
	return rc;
}

/*
 * Set n keys of section to their secrets, encrypted with the master key
 * of the config at path (made when missing) for bucket name: no key
 * stands in the file in clear. Stops at the first failure.
 * @return 0, or an errno (the failure printed).
 */
static int encrypt_into(struct bfs_config_edit *e, const char *section,
			const char *name, const char *path, size_t n,
			const char *const keys[],
			const struct bfs_secret *const vals[])
{
	struct bfs_master_key *mk = NULL;
	char err[1024] = "";
	int rc;

	rc = bfs_master_key_load(path, true, &mk, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *text = NULL;

		rc = bfs_secret_encrypt(mk, name, vals[i]->data, &text);
		if (rc == 0)
			rc = bfs_config_edit_set(e, section, keys[i], text);
		if (rc != 0)
			bfs_cli_error("cannot encrypt the %s: %s", keys[i],
				      strerror(rc));
		free(text);
	}
	bfs_master_key_free(mk);
	return rc;
}

/* Encrypt the key pair into section (encrypt_into). */
static int encrypt_keys(struct bfs_config_edit *e, const char *section,
			const char *name, const char *path,
			const struct bfs_secret *akid,
			const struct bfs_secret *secret)
{
	static const char *const keys[] = {"access_key_id",
					   "secret_access_key"};
	const struct bfs_secret *const vals[] = {akid, secret};

	return encrypt_into(e, section, name, path, 2, keys, vals);
}

/* ---- guided connect ---------------------------------------------------- */

/* What connect still needs from the user, or NULL when nothing. */
static const char *missing_field(const struct bucket_args *a, const char *name)
{
	const struct provider_info *p;

	if (!name)
		return "NAME";
	if (!a->provider)
		return "--provider";
	if (!a->bucket)
		return "--bucket";
	p = provider_missing(a);
	return p ? p->option : NULL;
}

/*
 * One answer typed on the terminal (echoed: none of these is secret),
 * read byte by byte so that no stdio buffer swallows what the key prompt
 * reads next.
 * @return a malloc'd line without blanks around it ("" allowed), or NULL
 *         at the end of input.
 */
static char *ask(const char *question, const char *def)
{
	char buf[1024];
	size_t n = 0, start = 0;
	char c;

	fprintf(stderr, "%s%s%s%s: ", question, def ? " [" : "", def ? def : "",
		def ? "]" : "");
	for (;;) {
		ssize_t r = read(STDIN_FILENO, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (n == 0)
				return NULL;
			break;
		}
		if (c == '\n')
			break;
		if (n < sizeof(buf) - 1)
			buf[n++] = c;
	}
	while (n > 0 && strchr(" \t\r", buf[n - 1]))
		n--;
	while (start < n && strchr(" \t", buf[start]))
		start++;
	buf[n] = '\0';
	if (start == n && def)
		return bfs_xstrdup(def);
	return bfs_xstrdup(buf + start);
}

/* Ask until the answer is not empty (three times at most). */
static char *ask_needed(const char *question, const char *def)
{
	for (int i = 0; i < 3; i++) {
		char *v = ask(question, def);

		if (v == NULL || v[0])
			return v;
		free(v);
		fprintf(stderr, "  (this one is needed)\n");
	}
	return NULL;
}

/*
 * Fill what connect lacks by asking on the terminal: the provider from a
 * menu, the name, the bucket and the provider's own fields. The answers
 * are malloc'd into owned[] (freed by the caller).
 * @return 0, or ENODATA (input ended or an answer stayed empty).
 */
static int guide(struct bucket_args *g, const char **name, char **owned,
		 size_t *nowned)
{
	const struct provider_info *p;
	char *v;

#define KEEP(x) (owned[(*nowned)++] = (x))
	fprintf(stderr, "Connecting a bucket (every answer can also be given "
			"as an option: see 'bucketfs bucket --help').\n");
	while (!g->provider) {
		fprintf(stderr, "Provider:\n");
		for (size_t i = 0; i < BFS_ARRAY_SIZE(providers); i++)
			fprintf(stderr, "  %zu) %-7s %s\n", i + 1,
				providers[i].name, providers[i].menu);
		v = ask("Choose 1-4", "1");
		if (v == NULL)
			return ENODATA;
		for (size_t i = 0; i < BFS_ARRAY_SIZE(providers); i++)
			if ((v[0] == (char)('1' + i) && !v[1]) ||
			    strcmp(v, providers[i].name) == 0)
				g->provider = providers[i].name;
		if (!g->provider)
			fprintf(stderr, "  '%s' is not one of 1-4\n", v);
		free(v);
	}
	while (!*name) {
		char why[256];

		v = ask_needed("Name of this connection (as in buckets/NAME)",
			       NULL);
		if (v == NULL)
			return ENODATA;
		if (bfs_config_check_name(v, why, sizeof(why)) != 0) {
			fprintf(stderr, "  bad name: %s\n", why);
			free(v);
			continue;
		}
		*name = KEEP(v);
	}
	if (!g->bucket) {
		v = ask_needed("Bucket name at the provider", *name);
		if (v == NULL)
			return ENODATA;
		g->bucket = KEEP(v);
	}
	p = provider_missing(g);
	if (p) {
		v = ask_needed(p->ask, NULL);
		if (v == NULL)
			return ENODATA;
		*arg_field(g, p->off) = KEEP(v);
	}
	if (strcmp(g->provider, "custom") == 0 && !g->region) {
		v = ask("Region, if the server needs one (empty: none)", NULL);
		if (v == NULL)
			return ENODATA;
		if (v[0])
			g->region = KEEP(v);
		else
			free(v);
	}
#undef KEEP
	return 0;
}

static int connect_one(const struct bucket_args *a, const char *name);

/*
 * `bucket connect` with parts missing: on a terminal, ask for them;
 * otherwise one error that lists what a script must give.
 */
static int cmd_connect(const struct bucket_args *a, const char *name)
{
	struct bucket_args g = *a;
	const char *missing = missing_field(a, name);
	char *owned[8];
	size_t nowned = 0;
	int rc;

	if (missing == NULL)
		return connect_one(a, name);
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		char needs[256];

		provider_needs_text(needs, sizeof(needs));
		bfs_cli_error("bucket connect needs %s: give NAME --provider "
			      "s3|r2|gcs|custom --bucket B, plus %s; the keys "
			      "with --keys-from-stdin or in AWS_ACCESS_KEY_ID "
			      "and AWS_SECRET_ACCESS_KEY, or --credentials "
			      "chain|anonymous (or run it on a terminal to be "
			      "asked for each)",
			      missing, needs);
		return 2;
	}
	rc = guide(&g, &name, owned, &nowned);
	if (rc == 0)
		rc = connect_one(&g, name);
	else
		bfs_cli_error("bucket connect: no answer; nothing was saved");
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	return rc == ENODATA ? 2 : rc;
}

/*
 * The connection test of section b of cfg with the credentials a mount
 * of it would use: new keys when given (akid, secret), else by its
 * credentials = (anonymous; the chain resolved here, in this process's
 * environment; the stored keys, decrypted here).
 * @param keys_fix how the user gives other keys, for the failure line.
 * @return 0, or an errno (the failure printed).
 */
static int test_section(const struct bfs_config *cfg,
			const struct bfs_bucket_conf *b,
			const struct bfs_secret *akid,
			const struct bfs_secret *secret, bool write,
			const char *keys_fix)
{
	struct bfs_conntest_conf tc = {.write = write, .keys_fix = keys_fix};
	struct bfs_secret *skid = NULL, *ssecret = NULL;
	struct bfs_cred_set *chain = NULL;
	char err[1024] = "", *fix = NULL;
	int rc;

	if (akid) {
		return bfs_conntest_run(cfg, b, akid->data, secret->data, &tc);
	}
	tc.saved = true;
	switch (bfs_bucket_credentials_mode(b)) {
	case BFS_CREDENTIALS_ANONYMOUS:
		printf("bucket '%s': anonymous requests (credentials = "
		       "anonymous)\n",
		       b->name);
		rc = bfs_conntest_run(cfg, b, NULL, NULL, &tc);
		break;
	case BFS_CREDENTIALS_CHAIN: {
		struct bfs_chain_conf cc = {.name = b->name,
					    .profile = b->profile,
					    .region = b->region};
		char src[128] = "";

		(void)bfs_secret_harden_process();
		rc = bfs_creds_chain_resolve(&cc, &chain, src, sizeof(src), err,
					     sizeof(err));
		if (rc != 0) {
			bfs_cli_error("bucket '%s': %s", b->name, err);
			break;
		}
		printf("bucket '%s': credentials from %s%s (credentials = "
		       "chain)\n",
		       b->name, src, chain->expiration ? ", temporary" : "");
		fix = bfs_xasprintf("fix the credentials of %s", src);
		tc.keys_fix = fix;
		tc.session_token = chain->session_token;
		rc = bfs_conntest_run(cfg, b, chain->access_key_id,
				      chain->secret_access_key, &tc);
		break;
	}
	default:
		/* decrypts in this process (made undumpable first) */
		rc = bfs_bucket_credentials(cfg, b, &skid, &ssecret, err,
					    sizeof(err));
		if (rc != 0) {
			bfs_cli_error("%s", err);
			break;
		}
		if (!b->access_key_id) {
			fix = bfs_xstrdup("set the right AWS_ACCESS_KEY_ID and "
					  "AWS_SECRET_ACCESS_KEY");
			tc.keys_fix = fix;
		}
		rc = bfs_conntest_run(cfg, b, skid->data, ssecret->data, &tc);
		break;
	}
	bfs_secret_free(skid);
	bfs_secret_free(ssecret);
	bfs_cred_set_put(chain);
	free(fix);
	return rc;
}

/*
 * The SSE-C customer key of --sse-customer-key-file (32 bytes, raw or in
 * base64), else asked without echo on a terminal, encrypted into the
 * section like the keys.
 * @return 0, or an errno (the failure printed).
 */
static int store_sse_key(struct bfs_config_edit *e, const char *section,
			 const char *name, const char *path,
			 const struct bucket_args *a)
{
	struct bfs_secret *raw = NULL, *b64 = NULL;
	char err[1024] = "";
	int rc;

	if (a->sse_key_file) {
		rc = bfs_secret_read_file(a->sse_key_file, &raw, err,
					  sizeof(err));
		if (rc != 0) {
			bfs_cli_error("%s", err);
			goto out;
		}
	} else if (isatty(STDIN_FILENO)) {
		echo_off();
		fprintf(stderr, "SSE-C customer key, base64 of 32 bytes (not "
				"echoed): ");
		rc = read_secret_line(STDIN_FILENO, &raw);
		echo_on();
		if (rc != 0) {
			bfs_cli_error("cannot read the customer key: %s",
				      rc == ENODATA ? "empty" : strerror(rc));
			goto out;
		}
	} else {
		bfs_cli_error("sse = c needs the customer key: give it with "
			      "--sse-customer-key-file FILE (32 bytes, raw or "
			      "base64; 'openssl rand 32 >FILE' makes one)");
		rc = EINVAL;
		goto out;
	}
	rc = bfs_secret_sse_key_b64(raw, &b64, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		goto out;
	}
	rc = encrypt_into(e, section, name, path, 1,
			  (const char *const[]){"sse_customer_key"},
			  (const struct bfs_secret *const[]){b64});
out:
	bfs_secret_free(raw);
	bfs_secret_free(b64);
	return rc;
}

/* Whether these options make the section one whose keys are read. */
static bool reads_keys(const struct bucket_args *a)
{
	return !a->credentials || strcmp(a->credentials, "keys") == 0;
}

static int commit(struct bfs_config_edit *e)
{
	char err[1024] = "";
	int rc = bfs_config_edit_commit(e, err, sizeof(err));

	if (rc != 0)
		bfs_cli_error("%s", rc == EAGAIN ? "the config file changed "
						   "while this command ran: "
						   "run it again"
						 : err);
	return rc;
}

/*
 * The end of `bucket CMD` (connect, update) once the section is edited:
 * read new keys when keys is set, test the section as it will be saved
 * (unless --no-test: a failure is printed with what to do and nothing
 * is saved), encrypt the keys into it, write the file.
 * @param done what the section was not if this fails ("saved",
 *        "changed").
 * @return 0, or an errno (the failure printed).
 */
static int save_section(const struct bucket_args *a, struct bfs_config_edit *e,
			const struct bfs_config *next,
			const struct bfs_bucket_conf *b, const char *section,
			const char *path, bool keys, const char *cmd,
			const char *done)
{
	struct bfs_secret *akid = NULL, *secret = NULL;
	char *fix = NULL;
	int rc = 0;

	if (keys) {
		rc = read_keys(a->keys_from_stdin, &akid, &secret);
		if (rc != 0)
			goto out;
	}
	if (!a->no_test) {
		fix = bfs_xasprintf("run 'bucketfs bucket %s' again with the "
				    "right keys",
				    cmd);
		rc = test_section(next, b, akid, secret, false, fix);
		if (rc != 0) {
			bfs_cli_error("bucket '%s' was not %s: the connection "
				      "test failed (fix the error above, or "
				      "save anyway with --no-test)",
				      b->name, done);
			goto out;
		}
	}
	if (keys) {
		rc = encrypt_keys(e, section, b->name, path, akid, secret);
		if (rc != 0)
			goto out;
	}
	rc = commit(e);
out:
	bfs_secret_free(akid);
	bfs_secret_free(secret);
	free(fix);
	return rc;
}

static int connect_one(const struct bucket_args *a, const char *name)
{
	struct bfs_config cur = {0}, next = {0};
	struct bfs_config_edit *e = NULL;
	const struct bfs_bucket_conf *b;
	char *path = NULL, *section = NULL, *kpath = NULL;
	char err[1024] = "";
	bool keys = reads_keys(a);
	int rc;

	rc = check_connect_args(a, name);
	if (rc != 0)
		return 2;
	path = bfs_cli_config_path(a->config);
	section = bfs_xasprintf("bucket %s", name);
	rc = bfs_config_edit_open(path, &e, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		goto out;
	}
	rc = parse_edit(e, path, &cur, "the config file is not valid");
	if (rc != 0)
		goto out;
	if (bfs_config_bucket(&cur, name) ||
	    bfs_config_edit_has_section(e, section)) {
		bfs_cli_error("bucket '%s' already exists (see 'bucketfs "
			      "bucket show %s'; 'bucketfs bucket update %s' "
			      "changes it)",
			      name, name, name);
		rc = EEXIST;
		goto out;
	}
	if (bfs_config_catalog(&cur, name)) {
		bfs_cli_error("'%s' is already the name of a catalog: choose "
			      "another name",
			      name);
		rc = EEXIST;
		goto out;
	}
	rc = set_fields(e, section, a);
	if (rc != 0)
		goto out;
	/* from here on the process holds keys */
	bfs_cli_harden();
	if (a->sse && strcmp(a->sse, "c") == 0) {
		rc = store_sse_key(e, section, name, path, a);
		if (rc != 0)
			goto out;
	}
	rc = parse_edit(e, path, &next, "cannot add this bucket");
	if (rc != 0)
		goto out;
	b = bfs_config_bucket(&next, name);
	if (!b) {
		bfs_cli_error("bucket '%s' did not parse", name);
		rc = EINVAL;
		goto out;
	}
	rc = save_section(a, e, &next, b, section, path, keys, "connect",
			  "saved");
	if (rc != 0)
		goto out;
	if (keys) {
		kpath = bfs_master_key_path(path);
		printf("saved bucket '%s' in %s (keys encrypted with %s)\n",
		       name, path, kpath);
	} else {
		printf("saved bucket '%s' in %s (credentials = %s)\n", name,
		       path, a->credentials);
	}
out:
	bfs_config_edit_free(e);
	bfs_config_release(&cur);
	bfs_config_release(&next);
	free(kpath);
	free(section);
	free(path);
	return rc ? 1 : 0;
}

/* ---- update ------------------------------------------------------------ */

/*
 * Whether update changes what a running mount's S3 client was built from
 * (catalog/lake.c applies keys and prefix live, and a lake mount swaps in
 * a new store for the rest; a mount of the bucket alone needs a remount).
 */
static bool driver_change(const struct bucket_args *a,
			  const struct bfs_bucket_conf *old,
			  const struct bfs_bucket_conf *b)
{
	return a->provider || a->bucket || a->region || a->endpoint ||
	       a->account_id || a->path_style || a->no_path_style ||
	       a->allow_insecure || a->no_allow_insecure || a->sse ||
	       a->sse_kms_key_id || a->sse_key_file || a->storage_class ||
	       a->requester_pays || a->no_requester_pays || a->ca_bundle ||
	       a->proxy ||
	       (old->credentials == BFS_CREDENTIALS_ANONYMOUS) !=
		       (b->credentials == BFS_CREDENTIALS_ANONYMOUS);
}

/*
 * `bucket update NAME [options]`: the fields given change, the others
 * stay; new keys are read when asked for (--keys-from-stdin, --new-keys),
 * when the section turns to --credentials keys without keys of its own,
 * or when nothing else is to change (the plain command rotates keys).
 * The result is tested like a connect, with the credentials it will use,
 * before it replaces the section, and running mounts pick it up
 * (watch.h).
 */
static int cmd_update(const struct bucket_args *a, const char *name)
{
	struct bfs_config cur = {0}, next = {0};
	struct bfs_config_edit *e = NULL;
	const struct bfs_bucket_conf *b, *old;
	struct bucket_args merged;
	char *path = NULL, *section = NULL;
	char err[1024] = "";
	bool read_new = a->keys_from_stdin || a->new_keys || !a->field_opts;
	int rc;

	if (strcmp(name, "builtin") == 0) {
		bfs_cli_error("the builtin bucket is a local directory: set "
			      "builtin_dir in [bucketfs] instead");
		return 2;
	}
	if (check_options(a) != 0)
		return 2;
	if (!reads_keys(a))
		read_new = false;
	path = bfs_cli_config_path(a->config);
	section = bfs_xasprintf("bucket %s", name);
	rc = bfs_config_edit_open(path, &e, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		goto out;
	}
	rc = parse_edit(e, path, &cur, "the config file is not valid");
	if (rc != 0)
		goto out;
	old = bfs_config_bucket(&cur, name);
	if (!old) {
		bfs_cli_error("unknown bucket '%s' (see 'bucketfs bucket "
			      "list'; 'bucketfs bucket connect %s' makes it)",
			      name, name);
		rc = ENOENT;
		goto out;
	}
	/* turning to keys without stored ones: the keys must come now */
	if (a->credentials && strcmp(a->credentials, "keys") == 0 &&
	    !old->access_key_id)
		read_new = true;
	rc = set_fields(e, section, a);
	if (rc != 0)
		goto out;
	if (read_new) {
		/* keys given are keys used */
		bfs_config_edit_unset(e, section, "credentials");
		bfs_config_edit_unset(e, section, "profile");
	}
	bfs_cli_harden();
	/* a new customer key: with --sse c when none is stored, or given
	 * alone to a bucket that has sse = c */
	if ((a->sse && strcmp(a->sse, "c") == 0 &&
	     (a->sse_key_file || !old->sse_customer_key)) ||
	    (!a->sse && a->sse_key_file && old->sse == BFS_SSE_C)) {
		rc = store_sse_key(e, section, name, path, a);
		if (rc != 0)
			goto out;
	}
	rc = parse_edit(e, path, &next, "cannot update this bucket");
	if (rc != 0)
		goto out;
	b = bfs_config_bucket(&next, name);
	args_of_section(b, &merged);
	if (check_fields(&merged, "update") != 0) {
		rc = EINVAL;
		goto out;
	}
	rc = save_section(a, e, &next, b, section, path, read_new, "update",
			  "changed");
	if (rc != 0)
		goto out;
	if (driver_change(a, old, b))
		printf("updated bucket '%s' in %s%s; running lake mounts use "
		       "it from now on (files open before keep its former "
		       "endpoint and options until closed); a mount of this "
		       "bucket alone uses its new endpoint, region and "
		       "options once it is remounted\n",
		       name, path, read_new ? " (new keys encrypted)" : "");
	else
		printf("updated bucket '%s' in %s%s; running mounts use it "
		       "from now on\n",
		       name, path, read_new ? " (new keys encrypted)" : "");
out:
	bfs_config_edit_free(e);
	bfs_config_release(&cur);
	bfs_config_release(&next);
	free(section);
	free(path);
	return rc ? 1 : 0;
}

/* ---- test -------------------------------------------------------------- */

static int test_local(const struct bfs_bucket_conf *b)
{
	if (access(b->dir, R_OK | W_OK | X_OK) != 0) {
		printf("bucket '%s' is the local directory %s: not usable "
		       "(%s)\n",
		       b->name, b->dir, strerror(errno));
		return 1;
	}
	printf("bucket '%s' is the local directory %s: readable and "
	       "writable; there is no connection to test\n",
	       b->name, b->dir);
	return 0;
}

static int cmd_test(const struct bucket_args *a, const char *name)
{
	struct bfs_config cfg = {0};
	const struct bfs_bucket_conf *b;
	char *keys_fix = NULL;
	int rc;

	if (bfs_cli_config_load(a->config, &cfg) != 0)
		return 1;
	b = find_bucket(&cfg, name);
	if (!b) {
		rc = ENOENT;
		goto out;
	}
	if (b->provider == BFS_PROVIDER_LOCAL) {
		rc = test_local(b);
		goto out;
	}
	keys_fix = bfs_xasprintf("give bucket '%s' the right keys with "
				 "'bucketfs bucket update %s'",
				 b->name, b->name);
	rc = test_section(&cfg, b, NULL, NULL, a->write, keys_fix);
	if (rc != 0)
		bfs_cli_error("the connection test of bucket '%s' failed",
			      name);
out:
	free(keys_fix);
	bfs_config_release(&cfg);
	return rc ? 1 : 0;
}

/* ---- list, show -------------------------------------------------------- */

static char *endpoint_of(const struct bfs_bucket_conf *b, bool *derived)
{
	struct bfs_endpoint ep = {0};
	char err[512];
	char *r;

	*derived = false;
	if (b->provider == BFS_PROVIDER_LOCAL)
		return bfs_xstrdup(b->dir ? b->dir : "");
	if (bfs_provider_resolve(b, &ep, err, sizeof(err)) != 0)
		return bfs_xasprintf("(%s)", err);
	*derived = !b->endpoint;
	r = bfs_xstrdup(ep.base_url);
	bfs_endpoint_release(&ep);
	return r;
}

static int cmd_list(const struct bucket_args *a)
{
	struct bfs_config cfg = {0};

	if (bfs_cli_config_load(a->config, &cfg) != 0)
		return 1;
	printf("%-20s %-8s %-24s %s\n", "NAME", "PROVIDER", "BUCKET",
	       "ENDPOINT OR DIRECTORY");
	for (size_t i = 0; i < cfg.nbuckets; i++) {
		const struct bfs_bucket_conf *b = &cfg.buckets[i];
		bool derived;
		char *where = endpoint_of(b, &derived);

		printf("%-20s %-8s %-24s %s\n", b->name,
		       bfs_provider_name(b->provider),
		       b->bucket ? b->bucket : "-", where);
		free(where);
	}
	bfs_config_release(&cfg);
	return 0;
}

/* "AKIA…XYZ": enough to recognise a key, not enough to use it. */
static void mask(const char *s, size_t n, char *out, size_t outlen)
{
	if (n >= 12)
		snprintf(out, outlen, "%.4s…%.3s", s, s + n - 3);
	else if (n >= 8)
		snprintf(out, outlen, "%.2s…%.2s", s, s + n - 2);
	else
		snprintf(out, outlen, "…");
}

/* The key id's mask, or why it cannot be shown. */
static void show_key_id(const struct bfs_bucket_conf *b,
			const struct bfs_master_key *mk, const char *mkerr)
{
	struct bfs_secret *s = NULL;
	char masked[64], err[1024] = "";
	const char *v = b->access_key_id;

	if (!bfs_secret_is_encrypted(v)) {
		mask(v, strlen(v), masked, sizeof(masked));
		printf("  %-28s %s (PLAINTEXT in the file)\n", "access_key_id",
		       masked);
		return;
	}
	if (!mk) {
		printf("  %-28s enc:v1:… (cannot decrypt: %s)\n",
		       "access_key_id", mkerr);
		return;
	}
	if (bfs_secret_decrypt(mk, b->name, v, &s, err, sizeof(err)) != 0) {
		printf("  %-28s enc:v1:… (%s)\n", "access_key_id", err);
		return;
	}
	mask(s->data, s->len, masked, sizeof(masked));
	printf("  %-28s %s (encrypted)\n", "access_key_id", masked);
	bfs_secret_free(s);
}

/* Only whether the secret exists and decrypts: never any of it. */
static void show_secret(const struct bfs_bucket_conf *b,
			const struct bfs_master_key *mk, const char *mkerr)
{
	struct bfs_secret *s = NULL;
	char err[1024] = "";
	const char *v = b->secret_access_key;

	if (!bfs_secret_is_encrypted(v)) {
		printf("  %-28s %s\n", "secret_access_key",
		       "set (PLAINTEXT in the file, never shown)");
		return;
	}
	if (!mk) {
		printf("  %-28s set (encrypted; cannot decrypt: %s)\n",
		       "secret_access_key", mkerr);
		return;
	}
	if (bfs_secret_decrypt(mk, b->name, v, &s, err, sizeof(err)) != 0) {
		printf("  %-28s set (encrypted; %s)\n", "secret_access_key",
		       err);
		return;
	}
	bfs_secret_free(s);
	printf("  %-28s %s\n", "secret_access_key",
	       "set (encrypted, never shown)");
}

static void show_keys(const struct bfs_config *cfg,
		      const struct bfs_bucket_conf *b)
{
	struct bfs_secret *akid = NULL, *secret = NULL;
	struct bfs_master_key *mk = NULL;
	char masked[64], err[1024] = "";

	if (!b->access_key_id && !b->secret_access_key) {
		printf("  %-28s %s\n", "access_key_id",
		       "(none: AWS_ACCESS_KEY_ID of the mount's environment)");
		printf("  %-28s %s\n", "secret_access_key",
		       "(none: AWS_SECRET_ACCESS_KEY of the mount's "
		       "environment)");
		return;
	}
	/*
	 * As a mount would (with the fallback to a pending rotation's key);
	 * when that fails, each value alone says which one is broken.
	 */
	if (bfs_bucket_credentials(cfg, b, &akid, &secret, err, sizeof(err)) ==
	    0) {
		mask(akid->data, akid->len, masked, sizeof(masked));
		printf("  %-28s %s (%s)\n", "access_key_id", masked,
		       bfs_secret_is_encrypted(b->access_key_id)
			       ? "encrypted"
			       : "PLAINTEXT in the file");
		printf("  %-28s %s\n", "secret_access_key",
		       bfs_secret_is_encrypted(b->secret_access_key)
			       ? "set (encrypted, never shown)"
			       : "set (PLAINTEXT in the file, never shown)");
		bfs_secret_free(akid);
		bfs_secret_free(secret);
		return;
	}
	if (bfs_master_key_load(cfg->path, false, &mk, err, sizeof(err)) != 0)
		mk = NULL;
	show_key_id(b, mk, err);
	show_secret(b, mk, err);
	bfs_master_key_free(mk);
}

/* A proxy URL without the password of its user:password@. */
static void show_proxy(const char *url)
{
	const char *auth = strstr(url, "://");
	const char *at = auth ? strchr(auth + 3, '@') : NULL;
	const char *colon =
		at ? memchr(auth + 3, ':', (size_t)(at - auth - 3)) : NULL;

	if (!colon) {
		printf("  %-28s %s\n", "proxy", url);
		return;
	}
	printf("  %-28s %.*s:…%s\n", "proxy", (int)(colon - url), url, at);
}

static void show_options(const struct bfs_bucket_conf *b)
{
	printf("  %-28s %s%s\n", "sse", bfs_sse_name(b->sse),
	       b->sse == BFS_SSE_NONE ? " (the bucket's default encryption)"
				      : "");
	if (b->sse == BFS_SSE_KMS)
		printf("  %-28s %s\n", "sse_kms_key_id",
		       b->sse_kms_key_id ? b->sse_kms_key_id
					 : "(none: the account's aws/s3 key)");
	if (b->sse_customer_key)
		printf("  %-28s %s\n", "sse_customer_key",
		       bfs_secret_is_encrypted(b->sse_customer_key)
			       ? "set (encrypted, never shown)"
			       : "set (PLAINTEXT in the file, never shown)");
	printf("  %-28s %s\n", "storage_class",
	       b->storage_class ? b->storage_class : "(the bucket's default)");
	printf("  %-28s %s\n", "requester_pays",
	       b->requester_pays ? "true" : "false");
	printf("  %-28s %s\n", "ca_bundle",
	       b->ca_bundle ? b->ca_bundle : "(the system's CAs)");
	if (b->proxy)
		show_proxy(b->proxy);
	else
		printf("  %-28s %s\n", "proxy",
		       "(none: http_proxy / HTTPS_PROXY of the environment)");
}

static int cmd_show(const struct bucket_args *a, const char *name)
{
	struct bfs_config cfg = {0};
	struct bfs_endpoint ep = {0};
	const struct bfs_bucket_conf *b;
	char err[512] = "";
	bool resolved;
	int rc = 0;

	if (bfs_cli_config_load(a->config, &cfg) != 0)
		return 1;
	b = find_bucket(&cfg, name);
	if (!b) {
		rc = 1;
		goto out;
	}
	printf("bucket %s\n", b->name);
	printf("  %-28s %s\n", "provider", bfs_provider_name(b->provider));
	if (b->provider == BFS_PROVIDER_LOCAL) {
		printf("  %-28s %s\n", "dir", b->dir);
		printf("  %-28s %s\n", "prefix",
		       b->prefix[0] ? b->prefix : "(none)");
		printf("  %-28s %s\n", "defined in",
		       b->line ? cfg.path : "(builtin_dir of [bucketfs])");
		goto out;
	}
	resolved = bfs_provider_resolve(b, &ep, err, sizeof(err)) == 0;
	printf("  %-28s %s\n", "bucket", b->bucket);
	printf("  %-28s %s%s\n", "region",
	       b->region  ? b->region
	       : resolved ? ep.region
			  : "?",
	       b->region ? "" : " (default)");
	printf("  %-28s %s%s\n", "endpoint",
	       b->endpoint ? b->endpoint
	       : resolved  ? ep.base_url
			   : err,
	       b->endpoint ? "" : " (derived)");
	if (b->provider == BFS_PROVIDER_R2 || b->account_id)
		printf("  %-28s %s\n", "account_id",
		       b->account_id ? b->account_id : "(none)");
	printf("  %-28s %s\n", "prefix", b->prefix[0] ? b->prefix : "(none)");
	printf("  %-28s %s%s\n", "path_style",
	       resolved ? (ep.path_style ? "true" : "false") : "?",
	       b->path_style < 0 ? " (default)" : "");
	printf("  %-28s %s\n", "allow_insecure",
	       b->allow_insecure ? "true" : "false");
	printf("  %-28s %s\n", "allow_plaintext_credentials",
	       b->allow_plaintext_credentials ? "true" : "false");
	printf("  %-28s %s%s\n", "credentials",
	       bfs_credentials_name(bfs_bucket_credentials_mode(b)),
	       b->credentials == BFS_CREDENTIALS_DEFAULT ? " (default)" : "");
	if (b->profile)
		printf("  %-28s %s\n", "profile", b->profile);
	show_keys(&cfg, b);
	show_options(b);
	printf("  %-28s %s:%d\n", "defined in", cfg.path, b->line);
out:
	bfs_endpoint_release(&ep);
	bfs_config_release(&cfg);
	return rc;
}

/* ---- remove ------------------------------------------------------------ */

static int cmd_remove(const struct bucket_args *a, const char *name)
{
	struct bfs_config cfg = {0};
	struct bfs_config_edit *e = NULL;
	char *path = bfs_cli_config_path(a->config);
	char *section = bfs_xasprintf("bucket %s", name);
	char err[1024] = "";
	int rc;

	if (strcmp(name, "builtin") == 0) {
		bfs_cli_error("the builtin bucket cannot be removed");
		rc = EPERM;
		goto out;
	}
	rc = bfs_config_edit_open(path, &e, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		goto out;
	}
	rc = parse_edit(e, path, &cfg, "the config file is not valid");
	if (rc != 0)
		goto out;
	if (!bfs_config_bucket(&cfg, name)) {
		bfs_cli_error("unknown bucket '%s' (see 'bucketfs bucket "
			      "list')",
			      name);
		rc = ENOENT;
		goto out;
	}
	for (size_t i = 0; i < cfg.ncatalogs; i++) {
		if (strcmp(cfg.catalogs[i].bucket, name) == 0) {
			bfs_cli_error("bucket '%s' is used by catalog '%s': "
				      "remove the catalog first ('bucketfs "
				      "catalog remove %s')",
				      name, cfg.catalogs[i].name,
				      cfg.catalogs[i].name);
			rc = EBUSY;
			goto out;
		}
	}
	rc = bfs_config_edit_remove_section(e, section);
	if (rc == 0)
		rc = bfs_config_edit_commit(e, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err[0] ? err : strerror(rc));
		goto out;
	}
	printf("removed bucket '%s' from %s (its data at the provider is "
	       "untouched)\n",
	       name, path);
out:
	bfs_config_edit_free(e);
	bfs_config_release(&cfg);
	free(section);
	free(path);
	return rc ? 1 : 0;
}

int bfs_cli_bucket(int argc, char **argv)
{
	struct bucket_args a = {0};
	const char *cmd;

	if (parse_args(argc, argv, &a) != 0)
		return 2;
	if (a.npos == 0) {
		bucket_usage();
		return 2;
	}
	cmd = a.pos[0];
	if (a.connect_opts && strcmp(cmd, "connect") != 0 &&
	    strcmp(cmd, "update") != 0) {
		bfs_cli_error("options such as --provider, --keys-from-stdin "
			      "or --no-test go with 'bucket connect' and "
			      "'bucket update' only");
		return 2;
	}
	if (a.new_keys && strcmp(cmd, "update") != 0) {
		bfs_cli_error("--new-keys goes with 'bucket update' only");
		return 2;
	}
	if (a.write && strcmp(cmd, "test") != 0) {
		bfs_cli_error("--write goes with 'bucket test' only");
		return 2;
	}
	if (strcmp(cmd, "list") == 0 && a.npos == 1)
		return cmd_list(&a);
	if (a.npos <= 2 && strcmp(cmd, "connect") == 0)
		return cmd_connect(&a, a.npos == 2 ? a.pos[1] : NULL);
	if (a.npos == 2 && strcmp(cmd, "update") == 0)
		return cmd_update(&a, a.pos[1]);
	if (a.npos == 2 && strcmp(cmd, "test") == 0)
		return cmd_test(&a, a.pos[1]);
	if (a.npos == 2 && strcmp(cmd, "show") == 0)
		return cmd_show(&a, a.pos[1]);
	if (a.npos == 2 && strcmp(cmd, "remove") == 0)
		return cmd_remove(&a, a.pos[1]);
	bucket_usage();
	return 2;
}
