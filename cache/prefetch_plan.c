/*
 * prefetch_plan.c - the prefetcher's tail fetch and Parquet plan (see
 * prefetch.h's invariants): the first read near the end of a file
 * fetches its tail; a Parquet footer found there becomes the object's
 * plan (cache/parquet.c), and reads that start a column chunk queue it
 * and the chunks the reader will read next.
 */
#include "compat.h"

#include "cache/prefetch_priv.h"
#include "log.h"

/* A file's first read within TAIL_NEAR of its end (not at 0) fetches
 * the blocks holding its last TAIL_BYTES with it: a Parquet (ORC, zip)
 * reader reads its trailer's length there and then the footer before
 * it, and one GET then serves both (was two in series). */
#define TAIL_NEAR  (64u << 10)
#define TAIL_BYTES (256u << 10)
/* Parquet plan (parquet.h): a read that starts a column chunk queues
 * the chunk's blocks and the same column's chunks of the next row
 * groups up to PLAN_AHEAD bytes of them (a projection reads one column
 * in every row group); a footer is parsed up to FOOTER_MAX bytes. */
#define PLAN_AHEAD (4ull << 20)
#define FOOTER_MAX (16u << 20)
#define PAGE	   4096u

/*
 * The column chunk of o's plan a read at off starts: one that starts in
 * the page of off (the kernel reads whole pages: a reader's read at a
 * chunk's start arrives at the start of its page), or -1.
 */
static long chunk_started(const struct pobj *o, uint64_t off)
{
	uint64_t lo = off - off % PAGE;

	return o->npq ? bfs_parquet_starting(o->pq, o->npq, lo, lo + PAGE) : -1;
}

/* Whether a read at off of o is in a column chunk its plan queued (or
 * starts one). */
bool in_plan(const struct pobj *o, uint64_t off)
{
	long i = o->npq ? bfs_parquet_find(o->pq, o->npq, off) : -1;
	long k = chunk_started(o, off);

	return (i >= 0 && o->planned[i]) || (k >= 0 && o->planned[k]);
}

/*
 * The Parquet footer of (key, etag), eof bytes long, whose tail blocks
 * from first on were just fetched, parsed into o's plan: a footer that
 * reaches before first is fetched too (the reader reads it next); one
 * that does not parse leaves no plan.
 */
static void learn_footer(struct pf_priv *p, const char *key, const char *etag,
			 uint64_t eof, uint64_t first)
{
	struct bfs_parquet_chunk *c = NULL;
	uint8_t tail[BFS_PARQUET_TAIL], *footer = NULL;
	uint64_t fstart;
	size_t n = 0, got = 0;
	uint32_t flen;
	struct pobj *o;
	int rc;

	if (eof < 2 * BFS_PARQUET_TAIL + 4)
		return;
	rc = p->inner->get_range(p->inner, key, eof - BFS_PARQUET_TAIL,
				 sizeof(tail), tail, &got, etag);
	if (rc == 0 && got != sizeof(tail))
		rc = EINVAL;
	if (rc == 0)
		rc = bfs_parquet_footer_len(tail, &flen);
	if (rc == 0 && (flen == 0 || flen > FOOTER_MAX ||
			flen > eof - BFS_PARQUET_TAIL - 4))
		rc = EINVAL;
	if (rc != 0)
		goto out;
	fstart = eof - BFS_PARQUET_TAIL - flen;
	if (fstart < first)
		(void)p->inner->warm(p->inner, key, etag, fstart,
				     first - fstart);
	footer = bfs_xmalloc(flen);
	rc = p->inner->get_range(p->inner, key, fstart, flen, footer, &got,
				 etag);
	if (rc == 0 && got != flen)
		rc = EINVAL;
	if (rc == 0)
		rc = bfs_parquet_chunks(footer, flen, eof, &c, &n);
out:
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	o = p->running ? obj_get(p, key, etag, false) : NULL;
	if (o && rc == 0 && o->pq == NULL) {
		o->pq = c;
		o->npq = n;
		o->planned = bfs_xcalloc(n, sizeof(*o->planned));
		c = NULL;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	free(c);
	free(footer);
}

/*
 * Before the first read of an object version: when it is near the end
 * (not at 0), fetch the blocks of its last TAIL_BYTES with it, the
 * reader waiting (see TAIL_NEAR). Later reads: nothing.
 */
void tail_fetch(struct pf_priv *p, const char *key, const char *etag,
		uint64_t off, size_t len)
{
	uint64_t eof = NO_EOF, first;
	struct pobj *o;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	o = p->running ? obj_get(p, key, etag, true) : NULL;
	if (o == NULL || o->started) {
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		return;
	}
	o->started = true;
	if (off > 0)
		o = size_of(p, o, key, etag);
	if (o && off > 0 && o->eof != NO_EOF && off + len + TAIL_NEAR >= o->eof)
		eof = o->eof;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (eof == NO_EOF || eof == 0)
		return;
	first = (eof > TAIL_BYTES ? eof - TAIL_BYTES : 0) / p->bs * p->bs;
	/* a failure is the read's own, below */
	if (p->inner->warm(p->inner, key, etag, first, eof - first) == 0)
		learn_footer(p, key, etag, eof, first);
}

/* Queue the blocks of chunk i of o, each a job a reader may take; lock
 * held. @return false when the queue is full (i stays unplanned). */
static bool plan_chunk(struct pf_priv *p, struct pobj *o, size_t i)
{
	const struct bfs_parquet_chunk *c = &o->pq[i];

	for (uint64_t b = c->start / p->bs; b <= (c->end - 1) / p->bs; b++) {
		if (!enqueue(p, o, b, 1))
			return false;
		if (p->tail && p->tail->block == b)
			p->tail->region = true;
	}
	o->planned[i] = true;
	return true;
}

/* Whether o's plan queued chunk i's column in another row group. */
static bool read_elsewhere(const struct pobj *o, size_t i)
{
	for (size_t k = 0; k < o->npq; k++)
		if (k != i && o->planned[k] &&
		    o->pq[k].column == o->pq[i].column)
			return true;
	return false;
}

/*
 * A read at off that starts a column chunk of o's plan (in its first
 * page) queues that chunk and the same column's chunks of the next row
 * groups, PLAN_AHEAD bytes of them; lock held.
 */
void plan(struct pf_priv *p, struct pobj *o, uint64_t off)
{
	long i = chunk_started(o, off);
	uint64_t ahead = 0;
	uint32_t col;

	if (i < 0)
		return;
	if (!o->planned[i] && !plan_chunk(p, o, (size_t)i))
		return;
	/* ahead once the column was read in another row group too: a
	 * filter reads a row group or two, a projection all of them */
	col = o->pq[i].column;
	if (!read_elsewhere(o, (size_t)i))
		return;
	for (size_t k = (size_t)i + 1; k < o->npq && ahead < PLAN_AHEAD; k++) {
		if (o->pq[k].column != col ||
		    o->pq[k].row_group <= o->pq[i].row_group)
			continue;
		ahead += o->pq[k].end - o->pq[k].start;
		if (!o->planned[k] && !plan_chunk(p, o, k))
			return;
	}
}
