/*
 * prefetch_plan.c - the prefetcher's tail fetch and Parquet plan (see
 * prefetch.h's invariants): the first read near the end of a file
 * fetches its tail; a Parquet footer found there becomes the object's
 * plan (cache/parquet.c), and reads that start a column chunk queue it
 * and the chunks the reader will read next.
 */
#include "compat.h"

#include "cache/blockcache.h"
#include "cache/prefetch_priv.h"
#include "log.h"

/* A file's first read within TAIL_NEAR of its end (not at 0) fetches
 * the blocks holding its last TAIL_BYTES with it: a Parquet (ORC, zip)
 * reader reads its trailer's length there and then the footer before
 * it, and one GET then serves both (was two in series). */
#define TAIL_NEAR  (64u << 10)
#define TAIL_BYTES BFS_BLOCKCACHE_TAIL
/* Parquet plan (parquet.h): a read that starts a column chunk queues
 * the chunk's blocks and the same column's chunks of the next row
 * groups up to PLAN_AHEAD bytes of them (a projection reads one column
 * in every row group); a footer is parsed up to FOOTER_MAX bytes. */
#define PLAN_AHEAD (4ull << 20)
/* A scan (several columns read in two row groups) has SCAN_AHEAD bytes
 * per such column queued ahead, at most max_window: a reader of all ten
 * of lake.parquet's columns gets a sequential reader's 64 MiB (36 MiB,
 * in 8 MiB runs that land whole, left it waiting for them). */
#define SCAN_AHEAD (8ull << 20)
#define FOOTER_MAX (16u << 20)
#define PAGE	   4096u
/* What the kernel reads after a reader's read of a chunk's first page:
 * DuckDB reads the page header, then the chunk, and the kernel turns
 * that into a read of KERNEL_READ bytes from the next page (its largest
 * FUSE read, src/fs), past a smaller chunk's end: the blocks it reaches
 * are fetched with the chunk's, at once, where the read used to fetch
 * the block past the chunk after the chunk's own (a filter's one or two
 * chunks: a round trip each). */
#define KERNEL_READ (1u << 20)
/* A chunk counts as read in its row group once reads covered all but a
 * READ_SLACK-th of it: the kernel's read past a chunk covers part of
 * the next one (DuckDB's 1 MiB after a 740 KiB chunk: 42% of it), which
 * the reader does not want. */
#define READ_SLACK 8

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
	uint64_t fstart = 0;
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
		o->footer_at = fstart;
		o->planned = bfs_xcalloc(n, sizeof(*o->planned));
		o->readb = bfs_xcalloc(n, sizeof(*o->readb));
		for (size_t i = 0; i < n; i++)
			o->ncols = BFS_MAX(o->ncols, c[i].column + 1);
		o->colrgs = bfs_xcalloc(o->ncols, sizeof(*o->colrgs));
		c = NULL;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	free(c);
	free(footer);
}

/*
 * Before the first read of an object version: when it is near the end
 * (not at 0), fetch the blocks of its last TAIL_BYTES with it, the
 * reader waiting (see TAIL_NEAR), unless the block cache holds those
 * bytes already (the head of a Parquet file brought them: blockcache.h).
 * Later reads: nothing.
 */
void tail_fetch(struct pf_priv *p, const char *key, const char *etag,
		uint64_t off, size_t len)
{
	uint64_t eof = NO_EOF, tail, first;
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
	tail = eof > TAIL_BYTES ? eof - TAIL_BYTES : 0;
	if (bfs_blockcache_holds(p->bc, key, etag, tail, eof - tail)) {
		learn_footer(p, key, etag, eof, tail);
		return;
	}
	first = tail / p->bs * p->bs;
	/* a failure is the read's own, below */
	if (p->inner->warm(p->inner, key, etag, first, eof - first) == 0)
		learn_footer(p, key, etag, eof, first);
}

/* Move the last m jobs of the queue, in their order, to its front;
 * lock held. */
static void to_front(struct pf_priv *p, size_t m)
{
	struct job *prev = NULL, *seg;

	if (m == 0 || m >= p->njobs)
		return;
	seg = p->head;
	for (size_t k = 0; k < p->njobs - m; k++) {
		prev = seg;
		seg = seg->next;
	}
	prev->next = NULL;
	p->tail->next = p->head;
	p->head = seg;
	p->tail = prev;
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

/* Queue the blocks past chunk i that the kernel's read after a read at
 * off (in the chunk's first page) reaches (KERNEL_READ), each a job a
 * reader may take; lock held. */
static void plan_kernel_read(struct pf_priv *p, struct pobj *o, size_t i,
			     uint64_t off)
{
	uint64_t e = off - off % PAGE + PAGE + KERNEL_READ;

	if (o->eof != NO_EOF)
		e = BFS_MIN(e, o->eof);
	for (uint64_t b = (o->pq[i].end - 1) / p->bs + 1; b * p->bs < e; b++) {
		if (!enqueue(p, o, b, 1))
			return;
		if (p->tail && p->tail->block == b)
			p->tail->region = true;
	}
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
	if (!o->planned[i]) {
		size_t before = p->njobs;
		bool ok = plan_chunk(p, o, (size_t)i);

		if (ok)
			plan_kernel_read(p, o, (size_t)i, off);
		/* the reader reads them now: before what is queued ahead
		 * (other readers' chunks, a column's next ones) */
		to_front(p, p->njobs - before);
		if (!ok)
			return;
	}
	/* ahead once the column was read in another row group too: a
	 * filter reads a row group or two, a projection all of them */
	col = o->pq[i].column;
	if (o->nproj >= 2 || !read_elsewhere(o, (size_t)i))
		return; /* a scan's runs go ahead of it (scan_ahead) */
	for (size_t k = (size_t)i + 1; k < o->npq && ahead < PLAN_AHEAD; k++) {
		if (o->pq[k].column != col ||
		    o->pq[k].row_group <= o->pq[i].row_group)
			continue;
		ahead += o->pq[k].end - o->pq[k].start;
		if (!o->planned[k] && !plan_chunk(p, o, k))
			return;
	}
}

/*
 * Note a read [off, end) of o: the bytes of each chunk it covered. A
 * chunk read (nearly, READ_SLACK) whole counts its column read in its
 * row group; a column read in two row groups is projected (nproj).
 */
static void note_read(struct pobj *o, uint64_t off, uint64_t end)
{
	long i = bfs_parquet_find(o->pq, o->npq, off);

	if (i < 0)
		i = bfs_parquet_starting(o->pq, o->npq, off, end);
	for (size_t k = (size_t)i; i >= 0 && k < o->npq && o->pq[k].start < end;
	     k++) {
		const struct bfs_parquet_chunk *c = &o->pq[k];
		uint64_t len = c->end - c->start, was = o->readb[k];

		o->readb[k] += BFS_MIN(end, c->end) - BFS_MAX(off, c->start);
		if (was * READ_SLACK >= len * (READ_SLACK - 1) ||
		    o->readb[k] * READ_SLACK < len * (READ_SLACK - 1))
			continue;
		if (++o->colrgs[c->column] != 2)
			continue;
		/* one more column to fetch ahead, where scan_ahead went
		 * already too: from the reader on again (blocks queued,
		 * fetched or in flight are not fetched twice) */
		o->nproj++;
		o->scan_end = 0;
	}
}

/* Queue blocks [b0, b1) of o in runs of at most run blocks, moving
 * o->scan_end past each; lock held. @return false when the queue is
 * full. */
static bool queue_runs(struct pf_priv *p, struct pobj *o, uint64_t b0,
		       uint64_t b1, uint64_t run)
{
	uint64_t b = b0, n;

	while (b < b1) {
		/* a block queued before (a chunk's, its column's ahead)
		 * splits the run: a run starting in a job is not queued */
		for (n = 0; n < run && b + n < b1 && !queued_at(p, o, b + n);
		     n++)
			;
		if (n > 0 && !enqueue(p, o, b, n))
			return false;
		b += BFS_MAX(n, 1);
		o->scan_end = BFS_MAX(o->scan_end, b);
	}
	return true;
}

/*
 * A reader of several projected columns (a scan) reads most of each row
 * group: after each of its reads, ending at end, the projected columns'
 * chunks past end, nproj * SCAN_AHEAD bytes of them (at most
 * max_window, a sequential reader's window), are queued from
 * o->scan_end on, chunks whose blocks follow one another in runs of
 * BFS_BLOCKCACHE_RUN_MAX (at most a quarter of that ahead and of
 * max_inflight). As a stream's window, only whole runs are queued, but
 * before a gap and at the last chunk: the part at the edge waits for
 * the reader's next reads (queuing what each read uncovered made every
 * GET a block). Lock held.
 */
static void scan_ahead(struct pf_priv *p, struct pobj *o, uint64_t end)
{
	uint64_t ahead =
		BFS_MIN((uint64_t)o->nproj * SCAN_AHEAD, p->max_window);
	uint64_t run = BFS_MIN(BFS_MIN(BFS_BLOCKCACHE_RUN_MAX, ahead / 4),
			       p->max_inflight / 4) /
		       p->bs;
	uint64_t seen = 0, r0 = 0, r1 = 0; /* the run being gathered */
	long i = bfs_parquet_find(o->pq, o->npq, end);
	bool edge = false; /* stopped at ahead, not at the last chunk */

	run = BFS_MAX(run, 1);
	if (i < 0)
		i = bfs_parquet_starting(o->pq, o->npq, end, NO_EOF);
	for (size_t k = (size_t)i; i >= 0 && k < o->npq; k++) {
		const struct bfs_parquet_chunk *c = &o->pq[k];
		uint64_t b0, b1;

		if (o->colrgs[c->column] < 2)
			continue;
		if (seen >= ahead) {
			edge = true;
			break;
		}
		seen += c->end - BFS_MAX(c->start, end);
		b0 = BFS_MAX(c->start / p->bs, o->scan_end);
		b1 = BFS_MIN((c->end - 1) / p->bs + 1, o->eof_block);
		if (b0 >= b1)
			continue;
		if (r0 < r1 && b0 > r1) { /* a gap: the run ends */
			if (!queue_runs(p, o, r0, r1, run))
				return;
			r0 = r1;
		}
		if (r0 >= r1)
			r0 = b0;
		r1 = BFS_MAX(r1, b1);
		if (r1 - r0 >= run) {
			uint64_t whole = r0 + (r1 - r0) / run * run;

			if (!queue_runs(p, o, r0, whole, run))
				return;
			r0 = whole;
		}
	}
	if (r0 < r1 && !edge)
		(void)queue_runs(p, o, r0, r1, run);
}

bool plan_read(struct pf_priv *p, struct pobj *o, uint64_t off, uint64_t end)
{
	long i;

	if (end <= off)
		return false;
	note_read(o, off, end);
	if (o->nproj < 2)
		return false;
	scan_ahead(p, o, end);
	/* the scan's runs cover the read: no stream window besides */
	i = bfs_parquet_find(o->pq, o->npq, off);
	return i >= 0 && o->colrgs[o->pq[i].column] >= 2;
}

void plan_free(struct pobj *o)
{
	free(o->pq);
	free(o->planned);
	free(o->readb);
	free(o->colrgs);
}
