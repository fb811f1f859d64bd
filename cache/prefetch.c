/*
 * prefetch.c - the prefetcher store (see prefetch.h): stream detection
 * per object version, a bounded job queue and a pool of threads that
 * fill the block cache ahead of sequential readers. The tail fetch and
 * the Parquet plan are prefetch_plan.c's (prefetch_priv.h).
 */
#include "compat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "cache/blockcache.h"
#include "cache/index.h"
#include "cache/prefetch.h"
#include "cache/prefetch_priv.h"
#include "cache/stats.h"
#include "log.h"

#define OBJS_MAX	 64 /* object versions followed at once */
#define DEFAULT_WINDOW	 (64ull << 20)
#define DEFAULT_INFLIGHT (64ull << 20)
#define DEFAULT_THREADS	 16
/* The window of a stream whose first read is a whole block at offset 0.
 * Behind 20 ms, a window that starts at one block and doubles per read
 * takes three round trips for an 8 MiB file (1, 5, then 2 blocks);
 * this takes one. */
#define FIRST_WINDOW (8ull << 20)

/* bfs_prefetch_set_readahead(): 0 until the mount tells */
static _Atomic uint64_t mount_readahead;

void bfs_prefetch_set_readahead(uint64_t bytes)
{
	atomic_store_explicit(&mount_readahead, bytes, memory_order_relaxed);
}

/* How much a first read at offset 0 covers when it is the kernel's full
 * read-ahead: a block, or the mount's read-ahead if less. */
static uint64_t first_read(const struct pf_priv *p)
{
	uint64_t ra =
		atomic_load_explicit(&mount_readahead, memory_order_relaxed);

	return ra ? BFS_MIN(ra, p->bs) : p->bs;
}
/* Largest request of a job: a server's cost per request dominates at
 * 1 MiB (s3rver on loopback, 4 requests at once: ~270 MiB/s with 1 MiB
 * ranges, ~560 MiB/s with 4 MiB ones), so a wide window is fetched in
 * runs of blocks; 8 MiB ones, 8 at once, cost s3rver (one node thread)
 * and us less CPU than 4 MiB ones 16 at once, and still fill a real
 * bucket's pipe (8 x 100 MiB/s). */
#define RUN_MAX_BYTES BFS_BLOCKCACHE_RUN_MAX
/* An object version's random reads cluster once at least CLUSTER_MIN of
 * them, and a CLUSTER_DIV-th of all, fell into a block or group read
 * before: from then on each random read fetches its group. (A reader
 * spread uniformly over 32 groups has its second such read at about its
 * 12th; with a quarter it needed 19, each a round trip.) */
#define CLUSTER_MIN 2
#define CLUSTER_DIV 8
/* A clustered reader's region (from its lowest to its highest random
 * read, at most REGION_MAX_BYTES) is fetched whole once at least a
 * DENSE_DIV-th of its blocks were read at random: a reader that keeps
 * missing in a bounded part of a file will touch most of it, and many
 * blocks in flight at once fill the pipe where one group at a time
 * left it mostly idle (fio's 1,000 random 4 KiB reads in 64 MiB: 8
 * blocks in flight at most, 344 IOPS; with the region, 500-650 on the
 * same loaded machine). Until then each read costs a round trip: fio's
 * 1,000 reads in 128 MiB behind 20 ms spent half their time finding
 * their region with an eighth. It is fetched in runs of
 * REGION_RUN_BYTES, twice the bandwidth-delay product of a real bucket
 * (100 MiB/s x 20 ms) and the size of the block cache's run buffers:
 * a run costs little more time than one block, and a server's cost per
 * request is paid a quarter as often as with blocks (s3rver on
 * loopback: 350-680 IOPS against 330-420 with 2 MiB runs, a fifth less
 * of its CPU); REGION_INFLIGHT bytes of runs at once (next_job). */
#define DENSE_DIV	 16
#define REGION_MAX_BYTES (256ull << 20)
#define REGION_RUN_BYTES (4ull << 20)
#define REGION_INFLIGHT	 (16ull << 20)

static struct pf_priv *priv_of(const struct bfs_store *s)
{
	return s->priv;
}

static void obj_free(struct pobj *o)
{
	free(o->key);
	plan_free(o);
	free(o);
}

/* The followed object (key, etag), made if new; lock held. */
struct pobj *obj_get(struct pf_priv *p, const char *key, const char *etag,
		     bool make)
{
	struct pobj *o, **pp, **oldest = NULL;

	for (pp = &p->objs; (o = *pp) != NULL; pp = &o->next) {
		if (strcmp(o->key, key) == 0 && strcmp(o->etag, etag) == 0) {
			o->last = ++p->clock;
			return o;
		}
		if (oldest == NULL || o->last < (*oldest)->last)
			oldest = pp;
	}
	if (!make)
		return NULL;
	if (p->nobjs >= OBJS_MAX && oldest) {
		o = *oldest;
		*oldest = o->next;
		obj_free(o);
		p->nobjs--;
	}
	o = bfs_xcalloc(1, sizeof(*o));
	o->key = bfs_xstrdup(key);
	snprintf(o->etag, sizeof(o->etag), "%s", etag);
	o->eof_block = NO_EOF;
	o->lo = NO_EOF;
	o->eof = NO_EOF;
	o->last = ++p->clock;
	o->next = p->objs;
	p->objs = o;
	p->nobjs++;
	return o;
}

static bool bit(const uint64_t *set, uint64_t i)
{
	return (set[i / 64] >> (i % 64)) & 1;
}

static void set_bit(uint64_t *set, uint64_t i)
{
	set[i / 64] |= 1ull << (i % 64);
}

/*
 * Note a random read of blocks [b0, b1] of o and say which blocks to
 * fetch for it, [*q0, *q1) (empty: none); lock held. A lone read
 * fetches nothing (its pieces served it, blockcache.h). A read into a
 * block read at random before fetches its blocks; one into a group
 * where another block was read before fetches the whole group once;
 * once the object's random reads cluster, every one fetches its group.
 */
static void note_random(struct pobj *o, uint64_t b0, uint64_t b1, uint64_t *q0,
			uint64_t *q1)
{
	uint64_t g0 = b0 - b0 % GROUP_BLOCKS, g = NO_EOF;
	bool near = false;

	*q0 = *q1 = 0;
	if (b1 < SEEN_BLOCKS && b1 - b0 < GROUP_BLOCKS) {
		for (uint64_t b = g0; b < b1 - b1 % GROUP_BLOCKS + GROUP_BLOCKS;
		     b++) {
			if (!bit(o->seen, b))
				continue;
			if (b >= b0 && b <= b1)
				near = true;
			else if (g == NO_EOF &&
				 !bit(o->grouped, b / GROUP_BLOCKS)) {
				g = b - b % GROUP_BLOCKS;
				set_bit(o->grouped, b / GROUP_BLOCKS);
			}
		}
		for (uint64_t b = b0; b <= b1; b++)
			set_bit(o->seen, b);
		o->lo = BFS_MIN(o->lo, b0);
		o->hi = BFS_MAX(o->hi, b1 + 1);
	}
	o->nrandom++;
	if (near || g != NO_EOF)
		o->nnear++;
	if (o->nnear >= CLUSTER_MIN && o->nnear * CLUSTER_DIV >= o->nrandom)
		o->clustered = true;
	if (o->clustered) {
		/* a dense reader: its groups, while it reads elsewhere */
		*q0 = g0;
		*q1 = b1 - b1 % GROUP_BLOCKS + GROUP_BLOCKS;
	} else if (near) {
		*q0 = b0;
		*q1 = b1 + 1;
	}
	if (g != NO_EOF) {
		*q0 = *q1 > *q0 ? BFS_MIN(*q0, g) : g;
		*q1 = BFS_MAX(*q1, g + GROUP_BLOCKS);
	}
}

/*
 * Whether o's random reads are dense in their region [lo, hi): a
 * clustered reader that read at least a DENSE_DIV-th of its blocks. If
 * so, [*r0, *r1) is the region to fetch: [lo, hi) widened on each side
 * by the span over the blocks read less one (the unbiased estimate of
 * the ends of a range read uniformly: fio's 1,000 reads in 128 MiB were
 * found dense within [7, 108) and the reads beyond each waited for a
 * piece, then for their blocks, 20 of them after the region came), at
 * most to REGION_MAX_BYTES, the end of the object and SEEN_BLOCKS.
 */
static bool dense(const struct pf_priv *p, const struct pobj *o, uint64_t *r0,
		  uint64_t *r1)
{
	uint64_t n = 0, span, pad, room;

	if (!o->clustered || o->lo >= o->hi || o->hi > SEEN_BLOCKS ||
	    (o->hi - o->lo) * p->bs > REGION_MAX_BYTES)
		return false;
	for (uint64_t b = o->lo; b < o->hi; b++)
		n += bit(o->seen, b);
	span = o->hi - o->lo;
	if (n * DENSE_DIV < span)
		return false;
	room = REGION_MAX_BYTES / p->bs - span;
	pad = BFS_MIN(n > 1 ? span / (n - 1) : 0, room / 2);
	*r0 = o->lo - BFS_MIN(pad, o->lo);
	*r1 = BFS_MIN(BFS_MIN(o->hi + pad, o->eof_block), SEEN_BLOCKS);
	return true;
}

/*
 * Queue blocks [r0, r1) of o as region jobs, but for the blocks a job
 * holds already (a group of a near read still waiting for a thread):
 * each stretch between those is a job of its own. Lock held.
 * @return false when the queue had no room for one of them.
 */
static bool enqueue_gaps(struct pf_priv *p, struct pobj *o, uint64_t r0,
			 uint64_t r1)
{
	bool held = false;

	/* one pass over the queue first: mostly no job holds any of them,
	 * and a block at a time costs a pass per block under the lock */
	for (const struct job *j = p->head; j && !held; j = j->next)
		held = j->block < r1 && j->block + j->n > r0 &&
		       strcmp(j->key, o->key) == 0 &&
		       strcmp(j->etag, o->etag) == 0;
	if (!held) {
		if (!enqueue(p, o, r0, r1 - r0))
			return false;
		p->tail->region = true;
		return true;
	}
	while (r0 < r1) {
		uint64_t e = r0;

		if (queued_at(p, o, r0)) {
			r0++;
			continue;
		}
		while (e < r1 && !queued_at(p, o, e))
			e++;
		if (!enqueue(p, o, r0, e - r0))
			return false;
		p->tail->region = true;
		r0 = e;
	}
	return true;
}

/*
 * Queue the blocks of o's region [lo, hi) not queued before, in runs
 * of REGION_RUN_BYTES, from block b outward (the reader is there now),
 * as long as the queue has room: later reads queue the rest. Lock held.
 */
static void enqueue_region(struct pf_priv *p, struct pobj *o, uint64_t lo,
			   uint64_t hi, uint64_t b)
{
	uint64_t run = BFS_MIN(REGION_RUN_BYTES, p->max_inflight / 4) / p->bs;
	uint64_t r0, r1;

	run = BFS_MAX(run, 1);
	hi = BFS_MIN(hi, o->eof_block);
	if (lo >= hi)
		return;
	b = BFS_MAX(BFS_MIN(b, hi - 1), lo);
	for (uint64_t d = 0; b + d < hi || b >= lo + d; d++) {
		uint64_t c[2] = {b + d, b - d};

		for (int k = 0; k < (d ? 2 : 1); k++) {
			if (c[k] < lo || c[k] >= hi || bit(o->queued, c[k]))
				continue;
			if (p->njobs >= p->queue_max)
				return;
			r0 = c[k] - c[k] % run;
			r1 = BFS_MIN(r0 + run, hi);
			r0 = BFS_MAX(r0, lo);
			if (!enqueue_gaps(p, o, r0, r1))
				continue;
			for (uint64_t x = r0; x < r1; x++)
				set_bit(o->queued, x);
		}
	}
}

/* Queue blocks [b, b+n) of o unless b is queued already; lock held. */
bool queued_at(const struct pf_priv *p, const struct pobj *o, uint64_t b)
{
	for (const struct job *j = p->head; j; j = j->next)
		if (b >= j->block && b < j->block + j->n &&
		    strcmp(j->key, o->key) == 0 &&
		    strcmp(j->etag, o->etag) == 0)
			return true;
	return false;
}

bool enqueue(struct pf_priv *p, const struct pobj *o, uint64_t b, uint64_t n)
{
	struct job *j;

	if (queued_at(p, o, b))
		return true;
	if (p->njobs >= p->queue_max) {
		p->st.dropped++;
		return false;
	}
	j = bfs_xcalloc(1, sizeof(*j));
	j->key = bfs_xstrdup(o->key);
	snprintf(j->etag, sizeof(j->etag), "%s", o->etag);
	j->block = b;
	j->n = n;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->njobs++;
	p->st.queued += n;
	BFS_PCHECK(pthread_cond_signal(&p->work));
	return true;
}

/* The stream a read at off continues, or NULL; lock held. */
static struct stream *match(struct pf_priv *p, struct pobj *o, uint64_t off)
{
	for (int i = 0; i < STREAMS; i++) {
		struct stream *s = &o->st[i];

		if (s->used && off + p->bs >= s->next && off <= s->next + p->bs)
			return s;
	}
	return NULL;
}

static struct stream *new_stream(struct pobj *o)
{
	struct stream *s = &o->st[0];

	for (int i = 0; i < STREAMS; i++) {
		if (!o->st[i].used) {
			s = &o->st[i];
			break;
		}
		if (o->st[i].last < s->last)
			s = &o->st[i];
	}
	memset(s, 0, sizeof(*s));
	s->used = true;
	return s;
}

/*
 * The stream a read [off, end) continues, moved past it, or a new one;
 * lock held.
 */
static struct stream *advance(struct pf_priv *p, struct pobj *o, uint64_t off,
			      uint64_t end)
{
	struct stream *s = match(p, o, off);

	if (s) {
		p->st.sequential++;
		s->next = BFS_MAX(s->next, end);
		/* a stream that began in the middle opens its window once it
		 * reaches past its first block: the kernel splits one large
		 * random read (fio's 1 MiB) into pieces that follow each
		 * other, and that is no reason to read the next block */
		if (s->window)
			s->window = BFS_MIN(s->window * 2, p->max_window);
		else if ((s->next - 1) / p->bs > s->start / p->bs)
			s->window = p->bs;
	} else {
		s = new_stream(o);
		s->start = off;
		s->next = end;
		if (off == 0) {
			/* a reader starting at the top is likely to go on;
			 * one that asked for a whole block at once, or the
			 * mount's whole read-ahead (the kernel's full
			 * read-ahead: cp, cat, a CSV reader), gets
			 * FIRST_WINDOW at once, in parallel runs */
			p->st.sequential++;
			s->window =
				end >= first_read(p) ? p->first_window : p->bs;
		} else {
			p->st.random++;
		}
	}
	s->last = ++p->clock;
	return s;
}

/* Queue the window of stream s ahead of its read ending at end; lock
 * held. */
static void queue_window(struct pf_priv *p, struct pobj *o, struct stream *s,
			 uint64_t end)
{
	uint64_t first, stop, window, run;

	/* a reader that reached the end has nothing ahead: the block
	 * holding end holds only bytes read already (cat of a small file
	 * costs its one GET, not a second one for its block) */
	if (o->eof != NO_EOF && end >= o->eof)
		return;
	/* from the block holding end: a small read took pieces of it, not
	 * the block (one a larger read fetched counts as there); with no
	 * size known, one block ahead at most is wasted at the end */
	window = o->eof_block == NO_EOF ? p->bs : s->window;
	first = BFS_MAX(end / p->bs, s->sched_end);
	stop = BFS_MIN((end + window + p->bs - 1) / p->bs, o->eof_block);
	/* runs of a quarter of the window, so that several are fetched
	 * at once, and at most RUN_MAX_BYTES and max_inflight each */
	run = BFS_MIN(window / 4, BFS_MIN(RUN_MAX_BYTES, p->max_inflight));
	run = BFS_MAX(run / p->bs, 1);
	for (uint64_t b = first; b < stop; b += run) {
		uint64_t n = BFS_MIN(run, stop - b);

		/* a part of a run at the window's edge waits until the
		 * reader's next reads make it whole (three quarters of the
		 * window are queued meanwhile), unless the object ends
		 * there: a full window slides a block per read, and queuing
		 * what each read uncovered made every GET a single block
		 * (s3rver: ~2.5 ms of its CPU per request, 256 GETs for a
		 * 256 MiB file where 64 do) */
		if (n < run && stop < o->eof_block)
			break;
		if (!enqueue(p, o, b, n))
			break;
		s->sched_end = b + n;
	}
}

/*
 * A read [off, off+len) that goes on with a sequential stream (or starts
 * one at the top of the object), seen as it arrives: the stream's
 * window is queued while the read waits for its own block. Seen only
 * once it had its bytes, each of a stream's first blocks cost a round
 * trip of its own: the next one was queued as the reader got the one
 * before (cat of 256 MiB from s3rver on loopback: 7 GETs of a block one
 * after the other, 80 ms, before the window was wider than a read).
 * Random reads, reads that end inside a block or at the end of the
 * object, and readers of a planned Parquet file are seen after
 * (observe): what they read decides. A read that ends inside a block
 * fetches pieces of it, and its block comes after it, not in a race
 * with it (a first 4 KiB read waited for its whole block instead of the
 * pieces its open brought). Needs the object's size: asked of inner
 * (the metadata cache's answer after an open) only for a read that ends
 * on a block boundary, a whole block's GET at least.
 * @return whether the read was seen (observe then only learns its end).
 */
static bool observe_early(struct pf_priv *p, const char *key, const char *etag,
			  uint64_t off, size_t len)
{
	struct stream *s;
	struct pobj *o;
	bool seen = false;

	if ((off + len) % p->bs != 0)
		return false;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (!p->running)
		goto out;
	o = obj_get(p, key, etag, true);
	for (int pass = 0; pass < 2; pass++) {
		if (o->npq || in_plan(o, off))
			goto out;
		s = match(p, o, off);
		if (s ? s->window == 0 : off != 0)
			goto out;
		if (pass == 1 || o->eof != NO_EOF)
			break;
		/* the lock is dropped meanwhile: look again after */
		o = size_of(p, o, key, etag);
		if (o == NULL || !p->running)
			goto out;
	}
	if (o->eof == NO_EOF || off + len > o->eof)
		goto out;
	s = advance(p, o, off, off + len);
	queue_window(p, o, s, off + len);
	seen = true;
out:
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return seen;
}

/* Learn from a finished read [off, off+got) of len asked; queue ahead.
 * seen: observe_early took it already. */
static void observe(struct pf_priv *p, const char *key, const char *etag,
		    uint64_t off, size_t len, size_t got, bool seen)
{
	uint64_t end = off + got, stop, q0 = 0, q1 = 0;
	uint64_t r0, r1;
	struct stream *s;
	struct pobj *o;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (!p->running)
		goto out;
	o = obj_get(p, key, etag, true);
	if (got < len) { /* the object ends at end */
		o->eof_block = BFS_MIN(o->eof_block, (end + p->bs - 1) / p->bs);
		o->eof = BFS_MIN(o->eof, end);
	}
	if (seen)
		goto out;
	if (o->npq && plan_read(p, o, off, end))
		goto out; /* a scan: the plan queues ahead of it */
	if (in_plan(o, off))
		goto out; /* the plan fetched the chunk and what follows */
	/* the footer the plan came from: its bytes are here (the tail
	 * fetch or the head brought them, as pieces maybe), and reading it
	 * again says nothing of where the reader goes next */
	if (o->npq && off >= o->footer_at)
		goto out;
	s = advance(p, o, off, end);
	/* a random read near earlier ones: reads cluster there, and the
	 * blocks come while the reader goes on (a lone read fetched its
	 * pieces only) */
	if (s->window == 0 && end > off)
		note_random(o, off / p->bs, (end - 1) / p->bs, &q0, &q1);
	if (s->window == 0 && q0 >= q1)
		goto out;
	/* a stream whose read reached the end has nothing ahead: `cat` of
	 * a small file got it whole with its first read (its pieces), and
	 * the block under them would be a second GET of the same bytes */
	if (s->window && got < len)
		goto out;
	if (o->eof_block == NO_EOF) {
		/* the size keeps the window inside the object: the head
		 * below us is cached (open just made it) */
		o = size_of(p, o, key, etag);
		if (o == NULL)
			goto out; /* forgotten meanwhile: o is gone */
	}
	if (s->window == 0 && dense(p, o, &r0, &r1)) {
		if (r0 < r1)
			enqueue_region(p, o, r0, r1, off / p->bs);
		goto out;
	}
	if (s->window == 0) {
		/* one block per job: each arrives as soon as it can (a run
		 * arrives whole, at the end of its transfer) */
		stop = BFS_MIN(q1, o->eof_block);
		if (q1 - q0 > 1)
			p->st.grouped++;
		for (uint64_t b = q0; b < stop; b++)
			if (!enqueue(p, o, b, 1))
				break;
		goto out;
	}
	queue_window(p, o, s, end);
out:
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

/*
 * The next job a thread may start, taken off the queue, or NULL; lock
 * held. A job's blocks are all held at once: jobs start in order while
 * the bytes being fetched stay within max_inflight. A region's runs
 * (enqueue_region) pass over while REGION_INFLIGHT bytes of them are
 * being fetched: a few in flight fill the pipe, and each lands sooner
 * than when the whole region shares it (fio's 128 MiB: 32 runs at
 * once took 0.45 s each, and a reader waited for all of them), in
 * buffers the block cache keeps for reuse (fresh ones were a quarter
 * of the daemon's CPU, zeroing pages).
 */
static struct job *next_job(struct pf_priv *p)
{
	for (struct job **jp = &p->head, *prev = NULL; *jp;
	     prev = *jp, jp = &(*jp)->next) {
		struct job *j = *jp;
		uint64_t bytes = j->n * p->bs;

		if (j->region && p->region_inflight > 0 &&
		    p->region_inflight + bytes > REGION_INFLIGHT)
			continue;
		if (p->inflight > 0 && p->inflight + bytes > p->max_inflight)
			return NULL;
		*jp = j->next;
		if (p->tail == j)
			p->tail = prev;
		p->njobs--;
		return j;
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct pf_priv *p = arg;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	for (;;) {
		struct pobj *o;
		struct job *j;
		int rc;

		while (!p->stopping && (j = next_job(p)) == NULL)
			BFS_PCHECK(pthread_cond_wait(&p->work, &p->lock));
		if (p->stopping)
			break;
		o = obj_get(p, j->key, j->etag, false);
		if (o && j->block >= o->eof_block) {
			/* queued before the end of the object was known */
			BFS_PCHECK(pthread_cond_broadcast(&p->idle));
			free(j->key);
			free(j);
			continue;
		}
		if (o && j->block + j->n > o->eof_block)
			j->n = o->eof_block - j->block;
		p->active++;
		p->inflight += j->n * p->bs;
		if (j->region)
			p->region_inflight += j->n * p->bs;
		p->st.inflight_peak = BFS_MAX(p->st.inflight_peak, p->inflight);
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));

		rc = p->inner->warm(p->inner, j->key, j->etag, j->block * p->bs,
				    j->n * p->bs);

		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		p->active--;
		p->inflight -= j->n * p->bs;
		if (j->region)
			p->region_inflight -= j->n * p->bs;
		/* room for a job that waited for max_inflight */
		BFS_PCHECK(pthread_cond_broadcast(&p->work));
		if (rc == 0) {
			p->st.fetched += j->n;
		} else if (rc == ERANGE) {
			o = obj_get(p, j->key, j->etag, false);
			if (o)
				o->eof_block = BFS_MIN(o->eof_block, j->block);
		} else {
			p->st.failed++;
			bfs_dbg(BFS_DBG_STORE,
				"prefetch of block %llu of '%s' failed: %s",
				(unsigned long long)j->block, j->key,
				strerror(rc));
		}
		BFS_PCHECK(pthread_cond_broadcast(&p->idle));
		free(j->key);
		free(j);
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return NULL;
}

/* Put blocks [b, b+n) of j's object at the head of the queue, a job of
 * a region; lock held. Nothing for n 0. */
static void push_front(struct pf_priv *p, const struct job *j, uint64_t b,
		       uint64_t n)
{
	struct job *k;

	if (n == 0)
		return;
	k = bfs_xcalloc(1, sizeof(*k));
	k->key = bfs_xstrdup(j->key);
	snprintf(k->etag, sizeof(k->etag), "%s", j->etag);
	k->block = b;
	k->n = n;
	k->region = true;
	k->next = p->head;
	p->head = k;
	if (p->tail == NULL)
		p->tail = k;
	p->njobs++;
	BFS_PCHECK(pthread_cond_signal(&p->work));
}

/*
 * The queued region job (enqueue_region) holding the block a read at off
 * of (key, etag) needs now, taken off the queue, or NULL; lock held. A
 * reader that waited behind a queue of a region's blocks would otherwise
 * fetch pieces of its block while the block itself waits for a thread.
 * The reader takes that block alone: the rest of the run goes back to
 * the head of the queue, for the threads (a reader waiting for a whole
 * 4 MiB run behind 20 ms waited twice as long as for its block, once per
 * miss of a uniform reader until its region is in). Sequential readers'
 * jobs are left to the threads, as before.
 */
static struct job *take_queued(struct pf_priv *p, const char *key,
			       const char *etag, uint64_t off)
{
	uint64_t b = off / p->bs;

	for (struct job **jp = &p->head, *prev = NULL; *jp;
	     prev = *jp, jp = &(*jp)->next) {
		struct job *j = *jp;

		if (!j->region || b < j->block || b >= j->block + j->n ||
		    strcmp(j->key, key) != 0 || strcmp(j->etag, etag) != 0)
			continue;
		*jp = j->next;
		if (p->tail == j)
			p->tail = prev;
		p->njobs--;
		push_front(p, j, b + 1, j->block + j->n - b - 1);
		push_front(p, j, j->block, b - j->block);
		j->block = b;
		j->n = 1;
		return j;
	}
	return NULL;
}

/*
 * The size of (key, etag) for o, asked of inner once (a cache hit after
 * open); lock held, dropped meanwhile. @return o, or NULL when o was
 * forgotten meanwhile.
 */
struct pobj *size_of(struct pf_priv *p, struct pobj *o, const char *key,
		     const char *etag)
{
	struct bfs_obj_info info = {0};
	int rc;

	if (o->eof != NO_EOF || o->sized)
		return o;
	o->sized = true;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	rc = p->inner->head(p->inner, key, &info);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (!p->running || obj_get(p, key, etag, false) != o)
		o = NULL;
	else if (rc == 0 && strcmp(info.etag, etag) == 0) {
		o->eof_block =
			BFS_MIN(o->eof_block, (info.size + p->bs - 1) / p->bs);
		o->eof = BFS_MIN(o->eof, info.size);
	}
	bfs_obj_info_release(&info);
	return o;
}

/* get_range, and get_range_parts with parts. */
static int pf_read(struct bfs_store *s, const char *key, uint64_t off,
		   size_t len, void *buf, size_t *got, const char *if_match,
		   struct bfs_file_parts *parts)
{
	struct pf_priv *p = priv_of(s);
	struct job *j = NULL;
	bool seen = false;
	struct pobj *o;
	int rc;

	if (if_match && if_match[0] && len > 0) {
		tail_fetch(p, key, if_match, off, len);
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		o = p->running ? obj_get(p, key, if_match, false) : NULL;
		if (o && o->npq)
			plan(p, o, off);
		if (p->running)
			j = take_queued(p, key, if_match, off);
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	}
	if (j) {
		/* the reader fetches the block itself, now: it is the one
		 * waiting (a failure is the read's own below) */
		rc = p->inner->warm(p->inner, key, if_match, j->block * p->bs,
				    j->n * p->bs);
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		if (rc == 0)
			p->st.fetched++;
		p->st.promoted++;
		BFS_PCHECK(pthread_cond_broadcast(&p->idle));
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		free(j->key);
		free(j);
	}
	if (if_match && if_match[0] && len > 0)
		seen = observe_early(p, key, if_match, off, len);
	if (parts)
		rc = p->inner->get_range_parts(p->inner, key, off, len, buf,
					       got, if_match, parts);
	else
		rc = p->inner->get_range(p->inner, key, off, len, buf, got,
					 if_match);
	if (rc == 0 && if_match && if_match[0] && len > 0)
		observe(p, key, if_match, off, len, *got, seen);
	return rc;
}

static int pf_get_range(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match)
{
	return pf_read(s, key, off, len, buf, got, if_match, NULL);
}

static int pf_get_range_parts(struct bfs_store *s, const char *key,
			      uint64_t off, size_t len, void *buf, size_t *got,
			      const char *if_match,
			      struct bfs_file_parts *parts)
{
	return pf_read(s, key, off, len, buf, got, if_match, parts);
}

void bfs_prefetch_drain(struct bfs_store *s)
{
	struct pf_priv *p = priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	while (p->running && (p->head || p->active))
		BFS_PCHECK(pthread_cond_wait(&p->idle, &p->lock));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	bfs_blockcache_drain(p->bc);
}

void bfs_prefetch_get_stats(struct bfs_store *s, struct bfs_prefetch_stats *out)
{
	struct pf_priv *p = priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	*out = p->st;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

/* The stats record, when it would say something new (stats.h); on the
 * tick and once at start. */
static void pf_tick(void *arg)
{
	struct pf_priv *p = arg;
	struct bfs_prefetch_stats st;
	struct bfs_stats_state ss;

	/* the ask first: the counters that answer it are taken after it */
	ss.answered = bfs_stats_asked(p->db);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	st = p->st;
	ss.pending = p->njobs + p->active;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (p->announced && memcmp(&st, &p->published, sizeof(st)) == 0 &&
	    memcmp(&ss, &p->published_state, sizeof(ss)) == 0)
		return;
	{
		const struct bfs_stats_counter c[] = {
			{"sequential", st.sequential},
			{"random", st.random},
			{"queued", st.queued},
			{"fetched", st.fetched},
			{"dropped", st.dropped},
			{"grouped", st.grouped},
			{"promoted", st.promoted},
			{"failed", st.failed},
			{"inflight_peak", st.inflight_peak},
		};

		if (bfs_stats_publish(p->db, p->bucket,
				      BFS_STATS_LAYER_PREFETCH, p->started, &ss,
				      c, BFS_ARRAY_SIZE(c)) == 0) {
			p->published = st;
			p->published_state = ss;
			p->announced = true;
		}
	}
}

/* Stop the threads and drop what is queued; idempotent. */
static void stop(struct pf_priv *p)
{
	pthread_t *threads;
	unsigned n;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	threads = p->threads;
	n = p->running ? p->nthreads : 0;
	p->threads = NULL;
	p->stopping = true;
	BFS_PCHECK(pthread_cond_broadcast(&p->work));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	for (unsigned i = 0; i < n; i++)
		BFS_PCHECK(pthread_join(threads[i], NULL));
	free(threads);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->running = false;
	while (p->head) {
		struct job *j = p->head;

		p->head = j->next;
		free(j->key);
		free(j);
	}
	p->tail = NULL;
	p->njobs = 0;
	BFS_PCHECK(pthread_cond_broadcast(&p->idle));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	bfs_metadb_detach(&p->db, pf_tick, p);
}

static int pf_start(struct bfs_store *s)
{
	struct pf_priv *p = priv_of(s);
	int rc = bfs_store_start_inner(s);

	if (rc != 0)
		return rc;
	p->started = time(NULL);
	if (p->meta_dir) {
		rc = bfs_metadb_attach(p->meta_dir, pf_tick, p, &p->db);
		if (rc != 0)
			return rc;
		/* a record from the start, so a reader that asks knows this
		 * daemon */
		bfs_metadb_tick_run(p->db, pf_tick, p);
	}
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->threads = bfs_xcalloc(p->nthreads, sizeof(*p->threads));
	p->stopping = false;
	for (unsigned i = 0; i < p->nthreads && rc == 0; i++) {
		rc = pthread_create(&p->threads[i], NULL, worker, p);
		if (rc != 0) {
			bfs_log(LOG_ERR, "cannot start prefetch threads: %s",
				strerror(rc));
			p->nthreads = i;
		}
	}
	p->running = true;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (rc != 0)
		stop(p);
	return rc;
}

static void pf_shutdown(struct bfs_store *s)
{
	struct pf_priv *p = priv_of(s);

	stop(p);
	bfs_store_shutdown_inner(s);
}

static void pf_destroy(struct bfs_store *s)
{
	struct pf_priv *p = priv_of(s);

	stop(p);
	bfs_store_undecorate(s);
	while (p->objs) {
		struct pobj *o = p->objs;

		p->objs = o->next;
		obj_free(o);
	}
	BFS_PCHECK(pthread_cond_destroy(&p->work));
	BFS_PCHECK(pthread_cond_destroy(&p->idle));
	BFS_PCHECK(pthread_mutex_destroy(&p->lock));
	free(p->meta_dir);
	free(p->bucket);
	free(p);
}

struct bfs_store *bfs_prefetch_create(const struct bfs_prefetch_conf *conf,
				      struct bfs_store *inner)
{
	/* found through the stack, for its block size and drain (tests) */
	struct bfs_store *bc =
		bfs_store_layer(inner, BFS_STORE_KIND_BLOCKCACHE);
	struct pf_priv *p;
	struct bfs_store *s;
	uint64_t per;

	if (bc == NULL || inner->warm == NULL ||
	    (conf->cache_dir && !conf->bucket)) {
		errno = EINVAL;
		return NULL;
	}
	p = bfs_xcalloc(1, sizeof(*p));
	p->inner = inner;
	p->bc = bc;
	p->bs = bfs_blockcache_block_size(bc);
	p->max_window = conf->max_window ? conf->max_window : DEFAULT_WINDOW;
	p->max_window = BFS_MAX(p->max_window, p->bs);
	p->first_window = BFS_MAX(BFS_MIN(FIRST_WINDOW, p->max_window), p->bs);
	p->max_inflight =
		conf->max_inflight ? conf->max_inflight : DEFAULT_INFLIGHT;
	p->nthreads = conf->threads ? conf->threads : DEFAULT_THREADS;
	/* each thread holds one block: that bounds the bytes in flight */
	per = BFS_MAX(p->max_inflight / p->bs, 1);
	p->nthreads = (unsigned)BFS_MIN((uint64_t)p->nthreads, per);
	p->queue_max = (size_t)BFS_MAX(2 * (p->max_window / p->bs), 16);
	if (conf->cache_dir) {
		p->meta_dir = bfs_xasprintf("%s/meta", conf->cache_dir);
		p->bucket = bfs_xstrdup(conf->bucket);
	}
	BFS_PCHECK(pthread_mutex_init(&p->lock, NULL));
	BFS_PCHECK(pthread_cond_init(&p->work, NULL));
	BFS_PCHECK(pthread_cond_init(&p->idle, NULL));

	s = &p->store;
	s->start = pf_start;
	s->get_range = pf_get_range;
	if (inner->get_range_parts)
		s->get_range_parts = pf_get_range_parts;
	s->shutdown = pf_shutdown;
	s->destroy = pf_destroy;
	bfs_store_decorate(s, p, inner, BFS_STORE_KIND_PREFETCH, "prefetch");
	return s;
}
