/*
 * slow.h - a store layer that makes chosen operations slow, and counts
 * what passes: a rule names an operation and a key prefix, and the
 * calls it matches wait a set time, or wait at a gate until the test
 * opens it. With a gate a test knows an upload or a download is in
 * flight for as long as it likes, so "nothing else waits for it" is
 * checked without any race against a timer (what the fault proxy's
 * stalls do for whole mounts in tests/integration). Every call is
 * written down (operation and key), so a test counts the requests one
 * file or one directory cost, as tests/integration/requests.sh counts
 * them at its proxy. Unruled it passes everything down unchanged.
 */
#ifndef BFS_STORE_SLOW_H
#define BFS_STORE_SLOW_H

#include "store/store.h"

/* How many rules a slow layer holds at once. */
#define BFS_SLOW_RULES 8

/*
 * A slow layer over inner, which it then owns (destroy destroys it);
 * without rules. @return the layer (allocation failure aborts).
 */
struct bfs_store *bfs_slow_create(struct bfs_store *inner);

/*
 * Make the calls of op whose key starts with prefix wait delay_ms
 * milliseconds before they go down, and, when gate is set, wait also
 * until bfs_slow_open() opens the rule. op is an operation's name as
 * bfs_fault_arm() takes it ("put", "get_range", ...) or "*" for any;
 * a call's key is its key, a listing's its prefix, a copy's either
 * name. Thread-safe.
 * @return the rule's number (for bfs_slow_open, bfs_slow_held), or -1
 *         when all BFS_SLOW_RULES are in use.
 */
int bfs_slow_rule(struct bfs_store *s, const char *op, const char *prefix,
		  unsigned delay_ms, bool gate);

/*
 * Open rule's gate: the calls it holds go on, and it matches no call
 * from now on (the rule is free for bfs_slow_rule again). Thread-safe.
 */
void bfs_slow_open(struct bfs_store *s, int rule);

/*
 * Wait until rule holds at least n calls at its gate, for at most
 * timeout_ms milliseconds. @return 0, or ETIMEDOUT.
 */
int bfs_slow_wait_held(struct bfs_store *s, int rule, unsigned n,
		       unsigned timeout_ms);

/* Calls rule holds at its gate now. */
unsigned bfs_slow_held(struct bfs_store *s, int rule);

/*
 * Calls of op ("*": any) passed down since the last bfs_slow_forget()
 * whose key (as bfs_slow_rule matches it) starts with prefix ("": any).
 */
unsigned bfs_slow_count(struct bfs_store *s, const char *op,
			const char *prefix);

/* Forget the calls written down so far (counts start again at 0). */
void bfs_slow_forget(struct bfs_store *s);

#endif
