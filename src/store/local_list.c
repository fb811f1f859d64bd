/*
 * local_list.c - S3-style listings of the local store: a walk of the
 * tree of encoded segments in key order, with prefix, delimiter and
 * continuation bounds.
 */
#include "compat.h"

#include "store/local_priv.h"

/* ---- listing ---- */

/* One entry of a directory under objects/. */
struct lent {
	char *name; /* file name in the directory */
	char *sort; /* the key segment, plus '/' for a directory */
	bool dir;
};

/* One directory being walked. */
struct lframe {
	char *rel; /* under objects/, "" for the root */
	char *q;   /* key prefix of its entries */
	struct lent *ents;
	size_t n, i;
};

enum lbound { B_NONE, B_KEY, B_PREFIX };

struct lwalk {
	struct local_priv *p;
	const char *prefix;
	size_t plen;
	const char *delim; /* NULL: flat */
	size_t dlen;
	/* entries up to bound (B_KEY) or up to and under it (B_PREFIX) are
	 * done */
	enum lbound bmode;
	char *bound;
	size_t qlen0; /* length of the start frame's q */
	struct lframe *fr;
	size_t depth, cap;
};

static int lent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lent *)a)->sort,
		      ((const struct lent *)b)->sort);
}

static void frame_release(struct lframe *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->ents[i].name);
		free(f->ents[i].sort);
	}
	free(f->ents);
	free(f->rel);
	free(f->q);
	memset(f, 0, sizeof(*f));
}

/*
 * The segment behind a hashed name: from the object's header or the
 * directory's "%name" file. NULL (logged) if it cannot be trusted.
 */
static char *hashed_seg(struct local_priv *p, const char *rel, const char *name,
			char type, const char *q)
{
	char *path = rel_join(rel, name);
	char check[NAME_ROOM + 1];
	char *seg = NULL;

	if (type == 'o') {
		const char *why = NULL;
		struct obj_hdr h;
		int fd = openat(p->obj_fd, path,
				O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd < 0)
			goto out;
		if (hdr_read(fd, &h, false, &why) != 0)
			damaged(p, path, why);
		else if (strncmp(h.key, q, strlen(q)) != 0 ||
			 strchr(h.key + strlen(q), '/') != NULL)
			damaged(p, path, "its header names another key");
		else
			seg = bfs_xstrdup(h.key + strlen(q));
		hdr_release(&h);
		close(fd);
	} else {
		char *sp = rel_join(path, SEGNAME);
		char buf[BFS_KEY_MAX + 1];
		size_t got = 0;
		int fd = openat(p->obj_fd, sp,
				O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd >= 0 &&
		    bfs_pread_full(fd, buf, sizeof(buf), 0, &got) == 0 &&
		    got < sizeof(buf) && memchr(buf, '\0', got) == NULL &&
		    memchr(buf, '/', got) == NULL)
			seg = bfs_xstrndup(buf, got);
		else
			damaged(p, sp, "missing or bad segment name file");
		if (fd >= 0)
			close(fd);
		free(sp);
	}
	if (seg) {
		seg_name(seg, strlen(seg), type, check);
		if (strcmp(check, name) != 0) {
			damaged(p, path, "name does not match its segment");
			free(seg);
			seg = NULL;
		}
	}
out:
	free(path);
	return seg;
}

/*
 * Read and sort the entries of directory rel (key prefix q) into f.
 * A missing directory is an empty frame.
 */
static int frame_load(struct local_priv *p, char *rel, char *q,
		      struct lframe *f)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int fd;

	memset(f, 0, sizeof(*f));
	f->rel = rel;
	f->q = q;
	fd = openat(p->obj_fd, rel_or_dot(rel),
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP) {
			damaged(p, rel, "not a directory");
			return 0;
		}
		return sys_err(p, "cannot open directory", rel, errno);
	}
	d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;

		close(fd);
		return sys_err(p, "cannot read directory", rel, e);
	}
	while ((de = readdir(d)) != NULL) {
		char type = 0, *seg = NULL;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, SEGNAME) == 0)
			continue;
		if (parse_name(de->d_name, &type, &seg) != 0) {
			char *path = rel_join(rel, de->d_name);

			bfs_log(LOG_WARNING,
				"local store '%s': skipping 'objects/%s': not "
				"a name this store writes",
				p->name, path);
			free(path);
			continue;
		}
		if (seg == NULL) {
			seg = hashed_seg(p, rel, de->d_name, type, q);
			if (seg == NULL)
				continue;
		}
		if (f->n == cap) {
			cap = cap ? 2 * cap : 16;
			f->ents = bfs_xrealloc(f->ents, cap * sizeof(*f->ents));
		}
		f->ents[f->n].name = bfs_xstrdup(de->d_name);
		f->ents[f->n].dir = type == 'p';
		f->ents[f->n].sort = type == 'p' ? bfs_xasprintf("%s/", seg)
						 : bfs_xstrdup(seg);
		f->n++;
		free(seg);
	}
	closedir(d);
	if (f->n > 1)
		qsort(f->ents, f->n, sizeof(*f->ents), lent_cmp);
	return 0;
}

static bool starts_with(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

static bool key_after_bound(const struct lwalk *w, const char *k)
{
	switch (w->bmode) {
	case B_NONE:
		return true;
	case B_KEY:
		return strcmp(k, w->bound) > 0;
	default:
		return strcmp(k, w->bound) > 0 && !starts_with(k, w->bound);
	}
}

/*
 * Where the keys under prefix r (a directory) lie against the bound:
 * -1 all done already, 0 some may be after it, 1 all after it.
 */
static int range_vs_bound(const struct lwalk *w, const char *r)
{
	if (w->bmode == B_NONE)
		return 1;
	if (w->bmode == B_PREFIX && starts_with(r, w->bound))
		return -1;
	if (starts_with(w->bound, r))
		return 0;
	return strcmp(r, w->bound) < 0 ? -1 : 1;
}

/*
 * Length of the common prefix shared by every key under directory
 * prefix r, when r alone decides it; 0 when it does not.
 */
static size_t range_cp(const struct lwalk *w, const char *r)
{
	size_t rlen = strlen(r);
	const char *d;

	if (w->delim == NULL || rlen < w->plen)
		return 0;
	d = memmem(r + w->plen, rlen - w->plen, w->delim, w->dlen);
	return d ? (size_t)(d - r) + w->dlen : 0;
}

/* Check an object file for a listing; damaged ones are logged. */
static int load_obj(struct local_priv *p, const char *rel, const char *name,
		    const char *key, struct obj_hdr *h)
{
	char *path = rel_join(rel, name);
	int rc = obj_open_rel(p, path, key, false, h, NULL);

	free(path);
	return rc;
}

/*
 * Whether the tree at rel (key prefix q) holds a valid object, without
 * reading more of it than needed.
 * @return 0 (yes), ENOENT (no), or an errno.
 */
static int tree_has_object(struct local_priv *p, const char *rel, const char *q)
{
	char **dirs = NULL;
	size_t ndirs = 0;
	struct dirent *de;
	int fd, rc = ENOENT;
	DIR *d;

	fd = openat(p->obj_fd, rel_or_dot(rel),
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP
			       ? ENOENT
			       : sys_err(p, "cannot open directory", rel,
					 errno);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return sys_err(p, "cannot read directory", rel, errno);
	}
	while (rc == ENOENT && (de = readdir(d)) != NULL) {
		char type = 0, *seg = NULL;

		if (parse_name(de->d_name, &type, &seg) != 0)
			continue;
		if (type == 'p') {
			dirs = bfs_xrealloc(dirs, (ndirs + 1) * sizeof(*dirs));
			dirs[ndirs++] = bfs_xstrdup(de->d_name);
		} else {
			if (seg == NULL)
				seg = hashed_seg(p, rel, de->d_name, type, q);
			if (seg) {
				struct obj_hdr h;
				char *key = bfs_xasprintf("%s%s", q, seg);

				if (load_obj(p, rel, de->d_name, key, &h) == 0)
					rc = 0;
				hdr_release(&h);
				free(key);
			}
		}
		free(seg);
	}
	closedir(d);
	for (size_t i = 0; i < ndirs; i++) {
		if (rc == ENOENT) {
			char type = 0, *seg = NULL;

			parse_name(dirs[i], &type, &seg);
			if (seg == NULL)
				seg = hashed_seg(p, rel, dirs[i], type, q);
			if (seg) {
				char *sub = rel_join(rel, dirs[i]);
				char *sq = bfs_xasprintf("%s%s/", q, seg);

				rc = tree_has_object(p, sub, sq);
				free(sub);
				free(sq);
			}
			free(seg);
		}
		free(dirs[i]);
	}
	free(dirs);
	return rc;
}

static int walk_push(struct lwalk *w, char *rel, char *q)
{
	if (w->depth == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 8;
		w->fr = bfs_xrealloc(w->fr, w->cap * sizeof(*w->fr));
	}
	w->depth++;
	return frame_load(w->p, rel, q, &w->fr[w->depth - 1]);
}

enum litem { I_END, I_OBJ, I_PREFIX };

/*
 * The next object (with its header in h) or common prefix after the
 * bound, in byte order. *key is malloc'd.
 */
static int walk_next(struct lwalk *w, enum litem *kind, char **key,
		     struct obj_hdr *h)
{
	*kind = I_END;
	while (w->depth > 0) {
		struct lframe *f = &w->fr[w->depth - 1];
		struct lent *e;
		size_t cplen;
		char *k;
		int rc, cls;

		if (f->i == f->n) {
			frame_release(f);
			w->depth--;
			continue;
		}
		e = &f->ents[f->i++];
		/* in the start frame only entries extending the prefix */
		if (w->depth == 1 && strncmp(e->sort, w->prefix + w->qlen0,
					     w->plen - w->qlen0) != 0)
			continue;
		k = bfs_xasprintf("%s%s", f->q, e->sort);
		if (!e->dir) {
			if (!key_after_bound(w, k)) {
				free(k);
				continue;
			}
			rc = load_obj(w->p, f->rel, e->name, k, h);
			if (rc == 0) {
				*kind = I_OBJ;
				*key = k;
				return 0;
			}
			free(k);
			if (rc == ENOENT || rc == EIO)
				continue; /* deleted meanwhile, or logged */
			return rc;
		}
		cls = range_vs_bound(w, k);
		if (cls < 0) {
			free(k);
			continue;
		}
		cplen = cls > 0 ? range_cp(w, k) : 0;
		if (cplen > 0) {
			/* the whole directory is one common prefix: is there
			 * anything in it? */
			char *sub = rel_join(f->rel, e->name);

			rc = tree_has_object(w->p, sub, k);
			free(sub);
			if (rc == 0) {
				k[cplen] = '\0';
				*kind = I_PREFIX;
				*key = k;
				return 0;
			}
			free(k);
			if (rc == ENOENT)
				continue;
			return rc;
		}
		rc = walk_push(w, rel_join(f->rel, e->name), k);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void walk_release(struct lwalk *w)
{
	while (w->depth > 0)
		frame_release(&w->fr[--w->depth]);
	free(w->fr);
	free(w->bound);
}

static void set_bound(struct lwalk *w, enum lbound mode, const char *s)
{
	free(w->bound);
	w->bmode = mode;
	w->bound = bfs_xstrdup(s);
}

int local_list(struct bfs_store *s, const struct bfs_list_req *req,
	       struct bfs_list_result *out)
{
	struct local_priv *p = local_priv_of(s);
	struct lwalk w = {0};
	unsigned max = req->max_keys ? req->max_keys : LIST_MAX_KEYS;
	char rel[REL_MAX], name[NAME_ROOM + 1];
	const char *seg, *slash;
	enum lbound last = B_NONE;
	unsigned count = 0;
	size_t o = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	max = BFS_MIN(max, LIST_MAX_KEYS);
	w.p = p;
	w.prefix = req->prefix ? req->prefix : "";
	w.plen = strlen(w.prefix);
	if (req->delimiter && req->delimiter[0]) {
		w.delim = req->delimiter;
		w.dlen = strlen(w.delim);
	}
	if (req->token) {
		if (req->token[0] != 'K' && req->token[0] != 'P') {
			rc = EINVAL;
			goto out;
		}
		set_bound(&w, req->token[0] == 'K' ? B_KEY : B_PREFIX,
			  req->token + 1);
	} else if (req->start_after && req->start_after[0]) {
		set_bound(&w, B_KEY, req->start_after);
	}
	if (w.plen > BFS_KEY_MAX)
		goto out;
	/* start in the directory of the prefix's whole segments */
	rel[0] = '\0';
	for (seg = w.prefix; (slash = strchr(seg, '/')) != NULL;
	     seg = slash + 1) {
		seg_name(seg, (size_t)(slash - seg), 'p', name);
		if (rel_add(rel, &o, name) != 0)
			goto out;
	}
	w.qlen0 = (size_t)(seg - w.prefix);
	rc = walk_push(&w, bfs_xstrdup(rel), bfs_xstrndup(w.prefix, w.qlen0));
	while (rc == 0) {
		struct obj_hdr h = {0};
		enum litem kind;
		char *key = NULL;
		const char *d;

		rc = walk_next(&w, &kind, &key, &h);
		if (rc != 0 || kind == I_END)
			break;
		if (kind == I_OBJ && w.delim &&
		    (d = strstr(key + w.plen, w.delim)) != NULL) {
			key[d - key + (ptrdiff_t)w.dlen] = '\0';
			kind = I_PREFIX;
		}
		if (count == max) {
			out->next_token = bfs_xasprintf(
				"%c%s", last == B_KEY ? 'K' : 'P', w.bound);
			free(key);
			hdr_release(&h);
			break;
		}
		count++;
		if (kind == I_OBJ) {
			struct bfs_obj_info *oi;

			out->objs = bfs_xrealloc(
				out->objs, (out->nobjs + 1) * sizeof(*oi));
			oi = &out->objs[out->nobjs++];
			memset(oi, 0, sizeof(*oi));
			oi->key = key;
			oi->size = h.size;
			oi->mtime = h.mtime;
			snprintf(oi->etag, sizeof(oi->etag), "%s", h.etag);
			set_bound(&w, B_KEY, key);
			last = B_KEY;
		} else {
			out->prefixes = bfs_xrealloc(out->prefixes,
						     (out->nprefixes + 1) *
							     sizeof(char *));
			out->prefixes[out->nprefixes++] = key;
			set_bound(&w, B_PREFIX, key);
			last = B_PREFIX;
		}
		hdr_release(&h);
	}
out:
	walk_release(&w);
	if (rc != 0)
		bfs_list_result_release(out);
	return stat_done(p, rc, 0, 0);
}
