/*
 * help.c - the one table of commands and their options, from which
 * `bucketfs --help`, `bucketfs COMMAND --help` and the man page
 * bucketfs(8) (`bucketfs help --man`, doc/bucketfs.8) are all printed,
 * so that none of them can miss a command another one lists.
 */
#include "compat.h"

#include "cli/cli_priv.h"
#include "conf.h"
#include "doc_text.h"

struct opt_doc {
	const char *flag; /* "--provider P" */
	const char *text;
};

struct cmd_doc {
	const char *group;	/* argv[1]; "mount" for both mount forms */
	const char *const *syn; /* lines after "bucketfs " */
	const char *text;
	const struct opt_doc *opts; /* ends with {NULL} */
};

static const struct opt_doc config_opt[] = {
	{"--config FILE", "configuration file; default $BUCKETFS_CONFIG, "
			  "else /etc/bucketfs/bucketfs.conf (root) or "
			  "~/.config/bucketfs/bucketfs.conf"},
	{"--help, -h", "this help"},
	{NULL, NULL},
};

static const char *const mount_syn[] = {
	"mount [OPTIONS] [NAME] MOUNTPOINT",
	"NAME MOUNTPOINT [-o OPTIONS]",
	NULL,
};
static const struct opt_doc mount_opts[] = {
	{"--config FILE", "configuration file (also -o config=FILE)"},
	{"-f", "stay in the foreground and log to stderr"},
	{"-d", "debug: foreground and a trace of every FUSE request"},
	{"-s", "single-threaded"},
	{"--premount", "mount MOUNTPOINT, hand the FUSE descriptor to "
		       "systemd's fd store and exit: the ExecStartPre=+ of "
		       "bucketfs@.service, whose sandboxed daemon then "
		       "serves it (doc/operations.md, systemd)"},
	{"-o OPT[,OPT...]", "bucketfs options (below) or FUSE mount options "
			    "(allow_other, default_permissions, ro ...); "
			    "an option that is neither is refused by name"},
	{"--help, -h", "this help"},
	{NULL, NULL},
};

static const char *const bucket_syn[] = {
	"bucket connect [NAME --provider s3|r2|gcs|custom --bucket B] "
	"[--region R] [--endpoint URL] [--account-id ID] [--path-style] "
	"[--prefix P] [--allow-insecure] [--credentials keys|chain|anonymous] "
	"[--profile P] [OPTIONS OF THE BUCKET] [--no-test] "
	"[--keys-from-stdin]",
	"bucket update NAME [--new-keys] [--keys-from-stdin] [--provider P] "
	"[--bucket B] [--region R] [--endpoint URL] [--account-id ID] "
	"[--[no-]path-style] [--prefix P] [--[no-]allow-insecure] "
	"[--credentials C] [--profile P] [OPTIONS OF THE BUCKET] [--no-test]",
	"bucket test NAME [--write]",
	"bucket list",
	"bucket show NAME",
	"bucket remove NAME",
	NULL,
};
static const struct opt_doc bucket_opts[] = {
	{"--provider P", "s3, r2, gcs or custom (connect)"},
	{"--bucket B", "the bucket's name at the provider; default NAME"},
	{"--region R", "the bucket's region"},
	{"--endpoint URL", "the S3 endpoint (custom providers)"},
	{"--account-id ID", "the account of an r2 bucket"},
	{"--path-style", "path-style URLs instead of virtual hosts "
			 "(--no-path-style: virtual hosts)"},
	{"--prefix P", "serve only keys under this prefix"},
	{"--allow-insecure", "allow an http:// endpoint that is not loopback "
			     "(--no-allow-insecure: refuse it again)"},
	{"--credentials C", "keys (stored, the default), chain (the AWS "
			    "provider chain) or anonymous (unsigned, public "
			    "buckets); chain and anonymous store no keys"},
	{"--profile P", "the AWS profile the chain reads"},
	{"--sse none|s3|kms|c", "server-side encryption of new objects"},
	{"--sse-kms-key-id ID", "sse kms: the KMS key (default aws/s3)"},
	{"--sse-customer-key-file FILE",
	 "sse c: the 32-byte customer key, raw or base64 (asked without "
	 "echo on a terminal); stored encrypted like the keys"},
	{"--storage-class C", "storage class of new objects (STANDARD_IA ...)"},
	{"--requester-pays", "pay for the requests of a Requester Pays bucket "
			     "(--no-requester-pays: stop)"},
	{"--ca-bundle FILE", "PEM CAs that verify the endpoint instead of the "
			     "system's"},
	{"--proxy URL", "forward proxy of the bucket's requests "
			"(http://HOST:PORT)"},
	{"''", "update: an empty value removes that option "
	       "(--proxy '')"},
	{"--no-test", "write the connection without testing it"},
	{"--keys-from-stdin", "read the access key id and secret from stdin, "
			      "one a line, instead of a prompt or "
			      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
	{"--new-keys", "update: ask for new keys too when other options "
		       "are given (alone, update always asks for keys)"},
	{"--write", "test: also write, read back and delete an object"},
	{"--config FILE", "configuration file to read and edit"},
	{"--help, -h", "this help"},
	{NULL, NULL},
};

static const char *const catalog_syn[] = {
	"catalog add NAME --type managed|bucket-tables|iceberg --bucket B "
	"[--prefix P]",
	"catalog table add CATALOG TABLE PATTERN",
	"catalog list",
	"catalog show NAME",
	"catalog remove NAME",
	NULL,
};
static const struct opt_doc catalog_opts[] = {
	{"--type T", "managed, bucket-tables or iceberg (add)"},
	{"--bucket B", "the bucket the catalog reads (add)"},
	{"--prefix P", "where in the bucket the catalog lives (add)"},
	{"--config FILE", "configuration file to read and edit"},
	{"--help, -h", "this help"},
	{NULL, NULL},
};

static const char *const key_syn[] = {"key rotate", NULL};
static const char *const cache_syn[] = {
	"cache stats [--fresh] [BUCKET]",
	"cache clear [BUCKET]",
	NULL,
};
static const struct opt_doc cache_opts[] = {
	{"--config FILE", "configuration file; default $BUCKETFS_CONFIG, "
			  "else /etc/bucketfs/bucketfs.conf (root) or "
			  "~/.config/bucketfs/bucketfs.conf"},
	{"--fresh", "ask the running daemons for their counters and wait (up "
		    "to 60 s) until each has written them, taken after the "
		    "ask, with no block fetch or prefetch of theirs still "
		    "running; otherwise the counters are at most a couple of "
		    "seconds old"},
	{"--help, -h", "this help"},
	{NULL, NULL},
};
static const char *const recover_syn[] = {
	"recover list",
	"recover restore ID PATH",
	"recover discard ID",
	NULL,
};
static const char *const stats_syn[] = {
	"stats MOUNTPOINT [--prometheus]",
	NULL,
};
static const struct opt_doc stats_opts[] = {
	{"--prometheus", "print the metrics as they are, in the Prometheus "
			 "text format"},
	{"--help, -h", "this help"},
	{NULL, NULL},
};
static const char *const help_syn[] = {
	"--help | -h | help [--man]",
	"--version | -V",
	NULL,
};
static const struct opt_doc help_opts[] = {
	{"--man", "print this help as the troff source of bucketfs(8)"},
	{NULL, NULL},
};

static const struct cmd_doc cmds[] = {
	{"mount", mount_syn,
	 "Mount a bucket or catalog NAME on MOUNTPOINT, or without NAME the "
	 "whole lake: buckets/<name>/ for every bucket. The second form is "
	 "the one mount(8) and fstab use (through mount.bucketfs or "
	 "mount.fuse3). The command returns once the mount is live, or "
	 "prints why it failed. Unmount with fusermount3 -u MOUNTPOINT.",
	 mount_opts},
	{"bucket", bucket_syn,
	 "Named connections to buckets: connect tests one and writes it to "
	 "the config file with its keys encrypted (on a terminal it asks "
	 "for whatever is not given); update changes its keys "
	 "or fields in place, tested the same way; test checks it again; "
	 "list, show and remove manage them. Running mounts follow every "
	 "change without a remount.",
	 bucket_opts},
	{"catalog", catalog_syn,
	 "Lakehouse views of a bucket: tables as directories of their data "
	 "files.",
	 catalog_opts},
	{"key", key_syn,
	 "Re-encrypt every key of the config file under a new master key.",
	 config_opt},
	{"cache", cache_syn,
	 "What the metadata and block caches hold and what the running "
	 "daemons report about them; clear empties them.",
	 cache_opts},
	{"recover", recover_syn,
	 "Writes a daemon could not upload before it stopped are kept in "
	 "<cache_dir>/lost+found, never uploaded blindly. list shows them "
	 "with bucket and key; restore copies one to PATH (a new file, "
	 "typically its path in a mount, which uploads it) and then drops "
	 "it; discard drops it.",
	 config_opt},
	{"stats", stats_syn,
	 "The metrics of the daemon serving MOUNTPOINT (the root of a "
	 "mount), since it started: requests to the object store per bucket, "
	 "operation and outcome with their mean latency, retries, bytes in "
	 "and out, metadata and block cache hit ratios, open and staged "
	 "files, uploads. They are the hidden xattr user.bucketfs.metrics "
	 "of the mount root, in the Prometheus text format "
	 "(doc/operations.md, Metrics).",
	 stats_opts},
	{"help", help_syn, "Print this help, or the version.", help_opts},
};

static const struct cmd_doc *find(const char *group)
{
	for (size_t i = 0; i < BFS_ARRAY_SIZE(cmds); i++)
		if (strcmp(cmds[i].group, group) == 0)
			return &cmds[i];
	return NULL;
}

static void print_cmd(FILE *f, const struct cmd_doc *c, bool with_opts)
{
	for (size_t i = 0; c->syn[i]; i++) {
		char *line = bfs_xasprintf("bucketfs %s", c->syn[i]);

		bfs_doc_wrap(f, 78, "  ", "      ", line);
		free(line);
	}
	bfs_doc_wrap(f, 78, "      ", "      ", c->text);
	if (!with_opts)
		return;
	for (size_t i = 0; c->opts[i].flag; i++) {
		fprintf(f, "    %s\n", c->opts[i].flag);
		bfs_doc_wrap(f, 78, "        ", "        ", c->opts[i].text);
	}
}

void bfs_cli_help(FILE *f, const char *group)
{
	const struct cmd_doc *c = group ? find(group) : NULL;

	if (c) {
		fputs("usage:\n", f);
		print_cmd(f, c, true);
		if (strcmp(group, "mount") == 0) {
			fputc('\n', f);
			bfs_config_print_help(f);
		}
		return;
	}
	fputs("usage: bucketfs COMMAND ... (bucketfs COMMAND --help for "
	      "one command)\n\nCommands:\n",
	      f);
	for (size_t i = 0; i < BFS_ARRAY_SIZE(cmds); i++) {
		print_cmd(f, &cmds[i], true);
		fputc('\n', f);
	}
	bfs_config_print_help(f);
}

void bfs_cli_help_man(FILE *f)
{
	fprintf(f, ".\\\" Generated by 'bucketfs help --man' (src/cli/help.c); "
		   "do not edit.\n"
		   ".TH BUCKETFS 8 \"\" \"bucketfs\" \"System "
		   "Administration\"\n"
		   ".SH NAME\nbucketfs \\- mount object-storage buckets "
		   "and lakehouse catalogs as files\n"
		   ".SH SYNOPSIS\n");
	for (size_t i = 0; i < BFS_ARRAY_SIZE(cmds); i++)
		for (size_t j = 0; cmds[i].syn[j]; j++) {
			fputs(".B bucketfs\n", f);
			bfs_doc_man_text(f, cmds[i].syn[j]);
			fputs("\n.br\n", f);
		}
	fputs(".SH COMMANDS\n", f);
	for (size_t i = 0; i < BFS_ARRAY_SIZE(cmds); i++) {
		const struct cmd_doc *c = &cmds[i];

		fputs(".SS ", f);
		bfs_doc_man_text(f, c->group);
		fputs("\n", f);
		for (size_t j = 0; c->syn[j]; j++) {
			fputs(".B bucketfs\n", f);
			bfs_doc_man_text(f, c->syn[j]);
			fputs("\n.br\n", f);
		}
		fputs(".PP\n", f);
		bfs_doc_man_text(f, c->text);
		fputs("\n", f);
		for (size_t j = 0; c->opts[j].flag; j++) {
			fputs(".TP\n.B ", f);
			bfs_doc_man_text(f, c->opts[j].flag);
			fputs("\n", f);
			bfs_doc_man_text(f, c->opts[j].text);
			fputs("\n", f);
		}
	}
	fputs(".SH OPTIONS\n"
	      "Options of\n.B \\-o\n"
	      "(also keys of the [bucketfs] section of\n"
	      ".BR bucketfs.conf (5)):\n",
	      f);
	bfs_config_print_man_options(f);
	fputs(".SH FILES\n"
	      ".TP\n.I /etc/bucketfs/bucketfs.conf\n"
	      "configuration of root's mounts (users: "
	      "~/.config/bucketfs/bucketfs.conf)\n"
	      ".TP\n.I /var/cache/bucketfs\n"
	      "caches and staged writes; lost+found/ (users: "
	      "~/.cache/bucketfs)\n"
	      ".TP\n.I /var/lib/bucketfs\n"
	      "the builtin bucket and the log file of a daemon without "
	      "syslog (users: ~/.local/share/bucketfs, "
	      "~/.local/state/bucketfs)\n"
	      ".SH SEE ALSO\n"
	      ".BR bucketfs.conf (5),\n.BR mount.fuse3 (8),\n"
	      ".BR fusermount3 (1),\n.BR systemd.exec (5)\n",
	      f);
}
