/*
 * ice_deletes.c - matching a snapshot's deletes to its data files (see
 * ice_deletes.h).
 */
#include "compat.h"

#include "catalog/ice_deletes.h"

/* The data file a delete is scoped to: referenced_data_file, else equal
 * file_path bounds (Java's ContentFileUtil.referencedDataFile), or NULL. */
static const char *scoped_path(const struct bfs_ice_file *d)
{
	if (d->content != BFS_ICE_POSITION_DELETES)
		return NULL;
	if (d->referenced)
		return d->referenced;
	if (d->lower_path && d->upper_path &&
	    strcmp(d->lower_path, d->upper_path) == 0)
		return d->lower_path;
	return NULL;
}

static bool same_partition(const struct bfs_ice_file *a,
			   const struct bfs_ice_file *b)
{
	return a->spec_id == b->spec_id &&
	       strcmp(a->pkey ? a->pkey : "", b->pkey ? b->pkey : "") == 0;
}

bool bfs_ice_delete_applies(const struct bfs_ice_file *d,
			    const struct bfs_ice_file *f)
{
	const char *scope = scoped_path(d);

	if (f->content != BFS_ICE_DATA)
		return false;
	if (d->content == BFS_ICE_EQUALITY_DELETES)
		return f->seq < d->seq &&
		       (d->unpartitioned || same_partition(d, f));
	if (d->content != BFS_ICE_POSITION_DELETES || f->seq > d->seq ||
	    !same_partition(d, f))
		return false;
	if (scope)
		return f->path && strcmp(scope, f->path) == 0;
	/* bounds compared as bytes: Java compares UTF-16 units, the same
	 * order for every path outside the supplementary planes */
	if (d->lower_path && (!f->path || strcmp(f->path, d->lower_path) < 0))
		return false;
	if (d->upper_path && (!f->path || strcmp(f->path, d->upper_path) > 0))
		return false;
	return true;
}

static int cmp_scope(const void *a, const void *b)
{
	return strcmp(scoped_path(*(struct bfs_ice_file *const *)a),
		      scoped_path(*(struct bfs_ice_file *const *)b));
}

static int cmp_part(const void *a, const void *b)
{
	const struct bfs_ice_file *x = *(struct bfs_ice_file *const *)a;
	const struct bfs_ice_file *y = *(struct bfs_ice_file *const *)b;

	if (x->spec_id != y->spec_id)
		return x->spec_id < y->spec_id ? -1 : 1;
	return strcmp(x->pkey ? x->pkey : "", y->pkey ? y->pkey : "");
}

static int cmp_sub(const void *a, const void *b)
{
	return strcmp((*(struct bfs_ice_file *const *)a)->sub,
		      (*(struct bfs_ice_file *const *)b)->sub);
}

/* The range [*lo, *hi) of sorted idx[n] comparing equal to key. */
static void equal_range(struct bfs_ice_file **idx, size_t n,
			struct bfs_ice_file *key,
			int (*cmp)(const void *, const void *), size_t *lo,
			size_t *hi)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (cmp(&idx[m], &key) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	b = n;
	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (cmp(&idx[m], &key) <= 0)
			a = m + 1;
		else
			b = m;
	}
	*hi = a;
}

struct index {
	struct bfs_ice_file **scoped, **parted, **global;
	size_t nscoped, nparted, nglobal;
};

static void add(struct bfs_ice_file ***v, size_t *n, struct bfs_ice_file *f)
{
	(*v)[(*n)++] = f;
}

/* The deletes of index ix that apply to data file f, into out. */
static void match_one(const struct index *ix, struct bfs_ice_file *f,
		      struct bfs_ice_file **out, size_t *nout)
{
	struct bfs_ice_file probe = {.content = BFS_ICE_POSITION_DELETES,
				     .referenced = f->path,
				     .spec_id = f->spec_id,
				     .pkey = f->pkey};
	bool has_dv = false;
	size_t lo, hi;

	if (f->path) {
		equal_range(ix->scoped, ix->nscoped, &probe, cmp_scope, &lo,
			    &hi);
		for (size_t i = lo; i < hi; i++)
			if (ix->scoped[i]->is_dv &&
			    bfs_ice_delete_applies(ix->scoped[i], f)) {
				out[(*nout)++] = ix->scoped[i];
				has_dv = true;
			}
		for (size_t i = lo; i < hi && !has_dv; i++)
			if (!ix->scoped[i]->is_dv &&
			    bfs_ice_delete_applies(ix->scoped[i], f))
				out[(*nout)++] = ix->scoped[i];
	}
	equal_range(ix->parted, ix->nparted, &probe, cmp_part, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		struct bfs_ice_file *d = ix->parted[i];

		if (has_dv && d->content == BFS_ICE_POSITION_DELETES)
			continue;
		if (bfs_ice_delete_applies(d, f))
			out[(*nout)++] = d;
	}
	for (size_t i = 0; i < ix->nglobal; i++)
		if (bfs_ice_delete_applies(ix->global[i], f))
			out[(*nout)++] = ix->global[i];
}

/* Each delete's data files (applies), in sub order as the data's. */
static void reverse(struct bfs_ice_file *files, size_t n)
{
	struct bfs_ice_file **data = bfs_xcalloc(n + 1, sizeof(*data));
	size_t nd = 0;

	for (size_t i = 0; i < n; i++) {
		free(files[i].applies);
		files[i].applies = NULL;
		files[i].napplies = 0;
		if (files[i].content == BFS_ICE_DATA)
			data[nd++] = &files[i];
	}
	if (nd > 1)
		qsort(data, nd, sizeof(*data), cmp_sub);
	for (size_t i = 0; i < nd; i++)
		for (size_t j = 0; j < data[i]->ndeletes; j++)
			data[i]->deletes[j]->napplies++;
	for (size_t i = 0; i < n; i++) {
		if (files[i].napplies)
			files[i].applies = bfs_xcalloc(
				files[i].napplies, sizeof(*files[i].applies));
		files[i].napplies = 0;
	}
	for (size_t i = 0; i < nd; i++) {
		for (size_t j = 0; j < data[i]->ndeletes; j++) {
			struct bfs_ice_file *d = data[i]->deletes[j];

			d->applies[d->napplies++] = data[i];
		}
	}
	free(data);
}

void bfs_ice_match_deletes(struct bfs_ice_file *files, size_t n)
{
	struct index ix = {0};
	struct bfs_ice_file **tmp;

	ix.scoped = bfs_xcalloc(n + 1, sizeof(*ix.scoped));
	ix.parted = bfs_xcalloc(n + 1, sizeof(*ix.parted));
	ix.global = bfs_xcalloc(n + 1, sizeof(*ix.global));
	for (size_t i = 0; i < n; i++) {
		struct bfs_ice_file *d = &files[i];

		if (d->content == BFS_ICE_DATA)
			continue;
		if (scoped_path(d))
			add(&ix.scoped, &ix.nscoped, d);
		else if (d->content == BFS_ICE_EQUALITY_DELETES &&
			 d->unpartitioned)
			add(&ix.global, &ix.nglobal, d);
		else
			add(&ix.parted, &ix.nparted, d);
	}
	if (ix.nscoped > 1)
		qsort(ix.scoped, ix.nscoped, sizeof(*ix.scoped), cmp_scope);
	if (ix.nparted > 1)
		qsort(ix.parted, ix.nparted, sizeof(*ix.parted), cmp_part);
	tmp = bfs_xcalloc(n + 1, sizeof(*tmp));
	for (size_t i = 0; i < n; i++) {
		struct bfs_ice_file *f = &files[i];
		size_t k = 0;

		free(f->deletes);
		f->deletes = NULL;
		f->ndeletes = 0;
		if (f->content != BFS_ICE_DATA ||
		    ix.nscoped + ix.nparted + ix.nglobal == 0)
			continue;
		match_one(&ix, f, tmp, &k);
		if (k == 0)
			continue;
		if (k > 1)
			qsort(tmp, k, sizeof(*tmp), cmp_sub);
		f->deletes = bfs_xcalloc(k, sizeof(*f->deletes));
		memcpy(f->deletes, tmp, k * sizeof(*tmp));
		f->ndeletes = k;
	}
	free(tmp);
	reverse(files, n);
	free(ix.scoped);
	free(ix.parted);
	free(ix.global);
}
