/*
 * conf_doc.c - text generated from the tables of keys (see conf_keys.c):
 * --help, the sample config file and the key reference of the man page.
 */
#include "compat.h"

#include "conf_priv.h"
#include "doc_text.h"

/* ---- text generated from the tables ----------------------------------- */

static const char *type_label(const struct key_def *k, char *buf, size_t len)
{
	switch (k->type) {
	case KT_PATH:
		return "PATH";
	case KT_PREFIX:
		return "PREFIX";
	case KT_SECRET:
		return "SECRET";
	case KT_BOOL:
	case KT_TRISTATE:
		return "BOOL";
	case KT_SIZE:
		return "SIZE";
	case KT_DURATION:
		return "DURATION";
	case KT_MODE:
		return "MODE";
	case KT_UINT:
		return "N";
	case KT_UID:
		return "USER";
	case KT_GID:
		return "GROUP";
	case KT_ENUM: {
		size_t n = 0;

		buf[0] = '\0';
		for (int i = 0; k->names[i] && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      i ? "|" : "", k->names[i]);
		return buf;
	}
	case KT_STR:
		break;
	}
	if (k->check == check_endpoint)
		return "URL";
	if (k->check == check_level)
		return "LEVEL";
	if (k->check == check_debug)
		return "LIST";
	if (k->check == check_ref)
		return "NAME";
	return "TEXT";
}

static void default_text(const struct key_def *k, char *buf, size_t len)
{
	if (k->def_doc)
		snprintf(buf, len, "%s", k->def_doc);
	else if (k->def && k->def[0])
		snprintf(buf, len, "%s", k->def);
	else
		snprintf(buf, len, "empty");
}

void bfs_config_print_help(FILE *f)
{
	fprintf(f, "bucketfs options (-o NAME=VALUE, or NAME = VALUE in the "
		   "[bucketfs] section\nof the config file; see "
		   "bucketfs.conf(5)):\n");
	for (size_t i = 0; i < BFS_ARRAY_SIZE(opt_keys); i++) {
		const struct key_def *k = &opt_keys[i];
		char tbuf[64], dbuf[160], *text;

		fprintf(f, "  %s=%s\n", k->name,
			type_label(k, tbuf, sizeof(tbuf)));
		default_text(k, dbuf, sizeof(dbuf));
		text = bfs_xasprintf("%s Default: %s.", k->help, dbuf);
		bfs_doc_wrap(f, 78, "        ", "        ", text);
		free(text);
	}
}

static void sample_keys(FILE *f, const struct key_def *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct key_def *k = &keys[i];
		const char *v = k->def ? k->def : k->example ? k->example : "";

		bfs_doc_wrap(f, 76, "# ", "# ", k->help);
		if (k->def_doc) {
			char *d = bfs_xasprintf("Default: %s.", k->def_doc);

			bfs_doc_wrap(f, 76, "# ", "# ", d);
			free(d);
		}
		fprintf(f, ";%s =%s%s\n\n", k->name, v[0] ? " " : "", v);
	}
}

void bfs_config_print_sample(FILE *f)
{
	fputs("# bucketfs.conf - sample configuration of bucketfs, generated "
	      "from the table\n"
	      "# of keys in src/conf_keys.c. See bucketfs.conf(5).\n"
	      "#\n"
	      "# Found by --config FILE (or -o config=FILE), else "
	      "$BUCKETFS_CONFIG, else\n"
	      "# /etc/bucketfs/bucketfs.conf for root and\n"
	      "# $XDG_CONFIG_HOME/bucketfs/bucketfs.conf "
	      "(~/.config/bucketfs/bucketfs.conf)\n"
	      "# for other users. Lines starting with ';' or '#' are "
	      "comments; so is the rest\n"
	      "# of a line after ' ;'. Every key below is commented out and "
	      "shows its\n"
	      "# default. Sizes take K, M, G, T (powers of 1024); durations "
	      "take ms, s, m, h\n"
	      "# (plain numbers are seconds); modes are octal.\n"
	      "\n"
	      "[bucketfs]\n"
	      "\n",
	      f);
	sample_keys(f, opt_keys, BFS_ARRAY_SIZE(opt_keys));
	fputs("# [bucket NAME]: a named connection to one bucket. NAME has "
	      "letters, digits,\n"
	      "# '.', '_' and '-'. Add one with 'bucketfs bucket connect NAME "
	      "--provider P',\n"
	      "# which tests it and writes the keys encrypted. Without keys "
	      "in the file, a\n"
	      "# bucket uses AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from "
	      "the environment\n"
	      "# of the mount. The bucket 'builtin' always exists (a local "
	      "directory,\n"
	      "# builtin_dir).\n"
	      "#\n"
	      ";[bucket lake]\n",
	      f);
	sample_keys(f, bucket_keys, BFS_ARRAY_SIZE(bucket_keys));
	fputs("# [catalog NAME]: a lakehouse view of a bucket.\n"
	      "#\n"
	      ";[catalog sales]\n",
	      f);
	sample_keys(f, catalog_keys, BFS_ARRAY_SIZE(catalog_keys));
	bfs_doc_wrap(f, 76, "# ", "# ", TABLE_KEY_HELP);
	fputs(";table.orders = raw/orders/**/*.parquet\n"
	      ";table.customers = raw/customers/\n",
	      f);
}

static void man_keys(FILE *f, const struct key_def *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct key_def *k = &keys[i];
		char tbuf[64], dbuf[160];

		fputs(".TP\n.BI \"", f);
		bfs_doc_man_text(f, k->name);
		fputs(" = \" ", f);
		bfs_doc_man_text(f, type_label(k, tbuf, sizeof(tbuf)));
		fputs("\n", f);
		bfs_doc_man_text(f, k->help);
		fputs("\nDefault: ", f);
		default_text(k, dbuf, sizeof(dbuf));
		bfs_doc_man_text(f, dbuf);
		fputs(".\n", f);
	}
}

void bfs_config_print_man_options(FILE *f)
{
	man_keys(f, opt_keys, BFS_ARRAY_SIZE(opt_keys));
}

void bfs_config_print_man(FILE *f)
{
	fputs(".SS \"[bucketfs]\"\n"
	      "Options of the whole installation and defaults of every "
	      "mount. Each can also be\ngiven as\n.BI \"\\-o \" NAME = VALUE\n"
	      "on the command line, which wins over the file.\n",
	      f);
	man_keys(f, opt_keys, BFS_ARRAY_SIZE(opt_keys));
	fputs(".SS \"[bucket NAME]\"\n", f);
	man_keys(f, bucket_keys, BFS_ARRAY_SIZE(bucket_keys));
	fputs(".SS \"[catalog NAME]\"\n", f);
	man_keys(f, catalog_keys, BFS_ARRAY_SIZE(catalog_keys));
	fputs(".TP\n.BI \"table.\" NAME \" = \" PATTERN\n", f);
	bfs_doc_man_text(f, TABLE_KEY_HELP);
	fputs("\n", f);
}
