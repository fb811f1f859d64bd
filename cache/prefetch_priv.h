/*
 * prefetch_priv.h - what the files of the prefetcher share (see
 * prefetch.h for its interface and invariants). The prefetcher is split
 * by job:
 *   prefetch.c       streams, random reads and regions, the job queue,
 *                    its threads, and the store operations
 *   prefetch_plan.c  the tail fetch and the Parquet plan: the footer
 *                    parsed into column chunks, and the chunks fetched
 *                    ahead of a reader
 */
#ifndef BFS_CACHE_PREFETCH_PRIV_H
#define BFS_CACHE_PREFETCH_PRIV_H

#include <pthread.h>
#include <time.h>

#include "cache/index.h"
#include "cache/parquet.h"
#include "cache/prefetch.h"
#include "cache/stats.h"

#define STREAMS 4 /* followed per object version */
#define NO_EOF	UINT64_MAX
/* Random reads: blocks are grouped by GROUP_BLOCKS (aligned); a random
 * read into a group where another block was read before queues the rest
 * of the group. Remembered for the first SEEN_BLOCKS of an object. */
#define GROUP_BLOCKS 4
#define SEEN_BLOCKS  4096

struct stream {
	bool used;
	uint64_t start;	    /* where the stream's first read started */
	uint64_t next;	    /* where the next sequential read starts */
	uint64_t window;    /* bytes to have fetched ahead; 0: random */
	uint64_t sched_end; /* blocks below this are queued already */
	uint64_t last;	    /* for replacing the least recently used */
};

/* One object version being read. */
struct pobj {
	struct pobj *next;
	char *key;
	char etag[BFS_ETAG_MAX];
	uint64_t eof_block; /* blocks from here on are past the end */
	uint64_t eof;	    /* the object's size, NO_EOF until known */
	bool sized;	    /* a head was asked for the size */
	uint64_t last;
	struct stream st[STREAMS];
	uint64_t seen[SEEN_BLOCKS / 64];		   /* read at random */
	uint64_t grouped[SEEN_BLOCKS / GROUP_BLOCKS / 64]; /* queued whole */
	uint64_t queued[SEEN_BLOCKS / 64];		   /* of the region */
	uint64_t nrandom;				   /* random reads */
	uint64_t nnear;	 /* of those, into a block or group read before */
	bool clustered;	 /* random reads cluster: fetch their blocks */
	uint64_t lo, hi; /* blocks [lo, hi) hold every random read seen */
	bool started;	 /* a read was seen (the tail fetch is for the first) */
	struct bfs_parquet_chunk *pq; /* its column chunks, or NULL */
	size_t npq;
	uint64_t footer_at; /* where the footer of pq starts */
	bool *planned;	    /* chunk i's blocks were queued */
	uint64_t *readb;    /* bytes of chunk i the reads covered */
	uint32_t *colrgs;   /* row groups a column was read whole in */
	uint32_t ncols;	    /* columns: 1 + the highest column number */
	uint32_t nproj;	    /* columns read whole in two row groups */
	uint64_t scan_end;  /* blocks below this were queued by scan_ahead */
};

/* Blocks [block, block+n) of one object version, fetched together. */
struct job {
	struct job *next;
	char *key;
	char etag[BFS_ETAG_MAX];
	uint64_t block;
	uint64_t n;
	bool region; /* of a dense reader's region: a reader may take it */
};

struct pf_priv {
	struct bfs_store store;
	struct bfs_store *inner;
	struct bfs_store *bc; /* the block cache below inner */
	uint64_t bs;
	uint64_t max_window;
	uint64_t first_window; /* FIRST_WINDOW within [bs, max_window] */
	uint64_t max_inflight;
	size_t queue_max;
	unsigned nthreads;
	char *meta_dir; /* NULL: no stats record */
	char *bucket;
	struct bfs_metadb *db;
	time_t started;

	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t idle; /* a job finished */
	/* protected by lock */
	pthread_t *threads;
	bool running;
	bool stopping;
	struct pobj *objs;
	size_t nobjs;
	uint64_t clock;
	struct job *head, *tail;
	size_t njobs;
	unsigned active;
	uint64_t inflight;
	uint64_t region_inflight; /* of inflight, of regions' runs */
	struct bfs_prefetch_stats st;
	/* the tick's (under the index's tick lock): what the record says */
	struct bfs_prefetch_stats published;
	struct bfs_stats_state published_state;
	bool announced; /* a record was written */
};

/* The followed object (key, etag), made if new (make); lock held. */
struct pobj *obj_get(struct pf_priv *p, const char *key, const char *etag,
		     bool make);

/* Whether block b of o is in a queued job; lock held. */
bool queued_at(const struct pf_priv *p, const struct pobj *o, uint64_t b);

/* Queue blocks [b, b+n) of o unless b is queued already; lock held.
 * @return false when the queue is full. */
bool enqueue(struct pf_priv *p, const struct pobj *o, uint64_t b, uint64_t n);

/* The size of (key, etag) for o, asked of inner once; lock held, dropped
 * meanwhile. @return o, or NULL when o was forgotten meanwhile. */
struct pobj *size_of(struct pf_priv *p, struct pobj *o, const char *key,
		     const char *etag);

/* prefetch_plan.c */

/* Before the first read of an object version near its end: its tail,
 * and its Parquet plan when the tail holds a footer. Lock not held. */
void tail_fetch(struct pf_priv *p, const char *key, const char *etag,
		uint64_t off, size_t len);

/* A read at off of o, which has a plan: queue what it says; lock held. */
void plan(struct pf_priv *p, struct pobj *o, uint64_t off);

/* Whether a read at off of o is in a column chunk its plan queued (or
 * starts one); lock held. */
bool in_plan(const struct pobj *o, uint64_t off);

/* A finished read [off, end) of o, which has a plan: note the chunks it
 * covered, and queue ahead of a reader of several columns; lock held.
 * @return whether the plan queues ahead of the read (no stream window). */
bool plan_read(struct pf_priv *p, struct pobj *o, uint64_t off, uint64_t end);

/* Free o's plan. */
void plan_free(struct pobj *o);

#endif
