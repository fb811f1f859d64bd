/*
 * test_inum.c - the numbers of forgotten inodes (src/fs/inum.c): a name
 * gets its number back, rename moves it, unlink and a replacing rename
 * drop it, another type does not take it, and the memory is bounded.
 */
#include "compat.h"

#include <stdio.h>

#include "fs/inum.h"
#include "tap.h"

int main(void)
{
	struct bfs_inums m;
	char name[32];
	fuse_ino_t ino;

	bfs_inums_init(&m);
	tap_ok(bfs_inums_take(&m, 1, "a", BFS_NODE_FILE, NULL) == 0,
	       "a name never seen has no number");

	bfs_inums_put(&m, 1, "a", BFS_NODE_FILE, 10, 0);
	tap_ok(bfs_inums_take(&m, 1, "a", BFS_NODE_FILE, NULL) == 10,
	       "a forgotten name gets its number back");
	tap_ok(bfs_inums_take(&m, 1, "a", BFS_NODE_FILE, NULL) == 0,
	       "once: the number is live again, no other name gets it");

	{
		uint64_t broken = 7;

		bfs_inums_put(&m, 1, "b", BFS_NODE_FILE, 12, 488);
		tap_ok(bfs_inums_take(&m, 1, "b", BFS_NODE_FILE, &broken) ==
				       12 &&
			       broken == 488,
		       "a forgotten broken file keeps what it was found to be");
		bfs_inums_put(&m, 1, "b", BFS_NODE_FILE, 12, 0);
		tap_ok(bfs_inums_take(&m, 1, "b", BFS_NODE_FILE, &broken) ==
				       12 &&
			       broken == 0,
		       "forgotten again while sound, it is sound");
		bfs_inums_put(&m, 1, "b", BFS_NODE_FILE, 12, 488);
		tap_ok(bfs_inums_take(&m, 1, "b", BFS_NODE_DIR, &broken) == 0 &&
			       broken == 0,
		       "a directory under the name is not broken");
	}

	bfs_inums_put(&m, 1, "a", BFS_NODE_FILE, 10, 0);
	tap_ok(bfs_inums_take(&m, 2, "a", BFS_NODE_FILE, NULL) == 0,
	       "the same name in another directory is another file");
	tap_ok(bfs_inums_take(&m, 1, "a", BFS_NODE_DIR, NULL) == 0,
	       "a directory now under the name does not take the file's");
	tap_ok(m.count == 0, "and the file's number is dropped");

	/* rename of a forgotten file, over a forgotten target */
	bfs_inums_put(&m, 1, "a", BFS_NODE_FILE, 10, 0);
	bfs_inums_put(&m, 3, "b", BFS_NODE_FILE, 11, 0);
	bfs_inums_move(&m, 1, "a", 3, "b");
	tap_ok(bfs_inums_take(&m, 1, "a", BFS_NODE_FILE, NULL) == 0,
	       "after rename the old name has no number");
	tap_ok(bfs_inums_take(&m, 3, "b", BFS_NODE_FILE, NULL) == 10,
	       "the new name has the renamed file's number, not the target's");
	bfs_inums_put(&m, 3, "b", BFS_NODE_FILE, 11, 0);
	bfs_inums_move(&m, 7, "live", 3, "b");
	tap_ok(bfs_inums_take(&m, 3, "b", BFS_NODE_FILE, NULL) == 0,
	       "a live file renamed over a forgotten one: the target's goes");

	bfs_inums_put(&m, 1, "a", BFS_NODE_FILE, 10, 0);
	bfs_inums_drop(&m, 1, "a");
	tap_ok(bfs_inums_take(&m, 1, "a", BFS_NODE_FILE, NULL) == 0,
	       "unlink drops the number");

	/* bounded: the oldest go first */
	for (unsigned i = 0; i < BFS_INUM_MAX + 10; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		bfs_inums_put(&m, 1, name, BFS_NODE_FILE, 100 + i, 0);
	}
	tap_ok(m.count == BFS_INUM_MAX, "at most BFS_INUM_MAX entries (%zu)",
	       m.count);
	tap_ok(bfs_inums_take(&m, 1, "f0", BFS_NODE_FILE, NULL) == 0,
	       "the oldest was dropped");
	snprintf(name, sizeof(name), "f%u", BFS_INUM_MAX + 9);
	ino = bfs_inums_take(&m, 1, name, BFS_NODE_FILE, NULL);
	tap_ok(ino == 100 + BFS_INUM_MAX + 9, "the newest is kept");
	bfs_inums_release(&m);
	return tap_done();
}
