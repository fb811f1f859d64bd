/*
 * lockorder.c - the debug check of lockorder.h: the levels each thread
 * holds, in a small thread-local stack.
 */
#include "compat.h"

#include "lockorder.h"

#ifndef NDEBUG

/* deeper nesting than this is itself a bug */
#define HELD_MAX 16

static _Thread_local unsigned held[HELD_MAX];
static _Thread_local unsigned nheld;

void bfs_lockorder_acquire(unsigned level, const char *file, int line)
{
	for (unsigned i = 0; i < nheld; i++)
		if (held[i] >= level)
			bfs_bug(file, line,
				"lock order: level %u taken while holding "
				"level %u",
				level, held[i]);
	if (nheld == HELD_MAX)
		bfs_bug(file, line, "lock order: %u locks held", nheld);
	held[nheld++] = level;
}

void bfs_lockorder_release(unsigned level)
{
	for (unsigned i = nheld; i-- > 0;) {
		if (held[i] == level) {
			memmove(&held[i], &held[i + 1],
				(nheld - i - 1) * sizeof(held[0]));
			nheld--;
			return;
		}
	}
	BFS_BUG("lock order: level %u released but not held", level);
}

void bfs_lockorder_wait(unsigned level, const char *file, int line)
{
	for (unsigned i = 0; i < nheld; i++)
		if (held[i] != level)
			bfs_bug(file, line,
				"lock order: a wait on level %u with level "
				"%u held",
				level, held[i]);
}

void bfs_lockorder_io(const char *file, int line)
{
	for (unsigned i = 0; i < nheld; i++)
		if (held[i] <= BFS_LK_FS_MAX)
			bfs_bug(file, line,
				"lock order: network I/O with lock level %u "
				"held",
				held[i]);
}

#endif
