/*
 * ice_deletes.h - which delete files and deletion vectors of a snapshot
 * apply to which of its data files, by the Iceberg spec's scan-planning
 * rules ("Scan Planning", format v2 and v3):
 *
 * - a deletion vector applies to the data file its referenced_data_file
 *   names, when the data file's partition (spec and values) is the
 *   vector's and its data sequence number is <= the vector's;
 * - a position delete file applies to a data file of the same partition
 *   (spec and values) whose data sequence number is <= the delete's,
 *   whose file_path is referenced_data_file when that is set and lies
 *   within the delete's file_path bounds when those are written, and to
 *   which no deletion vector applies (a vector holds every earlier
 *   position delete of its file);
 * - an equality delete file applies to a data file whose data sequence
 *   number is strictly lower than the delete's, of the same partition
 *   (spec and values), or to every data file when the delete's spec is
 *   unpartitioned (a global delete).
 *
 * Deletes are indexed once (by referenced file, by partition, global),
 * so matching costs O(data files × log deletes + matches), not a product.
 */
#ifndef BFS_CATALOG_ICE_DELETES_H
#define BFS_CATALOG_ICE_DELETES_H

#include "catalog/ice_resolve.h"

/*
 * Fill each data file's deletes/ndeletes (sorted by sub) from the delete
 * files of the same array; files that are deletes get none.
 */
void bfs_ice_match_deletes(struct bfs_ice_file *files, size_t n);

/* Whether delete d applies to data file f (the rules above, without the
 * "no deletion vector applies" clause: the caller knows that). */
bool bfs_ice_delete_applies(const struct bfs_ice_file *d,
			    const struct bfs_ice_file *f);

#endif
