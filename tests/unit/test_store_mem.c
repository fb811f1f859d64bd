/*
 * test_store_mem.c - the in-memory store passes the same conformance
 * battery as every driver, at the root and under a prefix.
 */
#include "compat.h"

#include "store/mem.h"
#include "store_conformance.h"

int main(void)
{
	struct bfs_store *s = bfs_mem_create("mem");

	bfs_store_conformance(s, "");
	bfs_store_conformance(s, "deep/er/prefix/");
	s->destroy(s);
	return bfs_conformance_done();
}
