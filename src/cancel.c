/*
 * cancel.c - the table of interruptible requests (see cancel.h).
 *
 * Each slot is one 64-bit word: the id of the request that holds it,
 * shifted left by one, with the low bit set once it was cancelled; 0 is
 * a free slot. Every change is one compare-and-swap, so a cancel can
 * never land on a slot that a later request took over.
 */
#include "compat.h"

#include <stdatomic.h>

#include "cancel.h"

/* more than the FUSE worker threads of a mount */
#define SLOTS 256

static _Atomic uint64_t slots[SLOTS];
static _Atomic uint64_t next_id = 1;
static __thread _Atomic uint64_t *mine;

uint64_t bfs_cancel_begin(void)
{
	uint64_t id = atomic_fetch_add(&next_id, 1);

	mine = NULL;
	for (size_t i = 0; i < SLOTS; i++) {
		uint64_t free_slot = 0;

		if (atomic_compare_exchange_strong(&slots[i], &free_slot,
						   id << 1)) {
			mine = &slots[i];
			break;
		}
	}
	return id;
}

void bfs_cancel_end(void)
{
	if (mine)
		atomic_store(mine, 0);
	mine = NULL;
}

void bfs_cancel_fire(uint64_t id)
{
	for (size_t i = 0; i < SLOTS; i++) {
		uint64_t v = atomic_load(&slots[i]);

		while (v >> 1 == id && !(v & 1)) {
			if (atomic_compare_exchange_weak(&slots[i], &v, v | 1))
				return;
		}
		if (v >> 1 == id)
			return;
	}
}

bool bfs_cancel_requested(void)
{
	return mine && (atomic_load(mine) & 1);
}
