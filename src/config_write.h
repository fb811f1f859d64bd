/*
 * config_write.h - edits of the config file by the CLI (bucket connect,
 * bucket remove, key rotate): add, replace or remove a key or a whole
 * section while every other line — comments, blank lines, unrelated
 * sections, their order — stays byte for byte as it was.
 *
 * Invariants:
 * - The file is only ever replaced whole: the new text is validated
 *   with bfs_config_load_buffer(), written to a temporary file in the
 *   same directory with mode 0600, fsync'ed, renamed over the old one,
 *   and the directory is fsync'ed. A crash leaves the old file or the
 *   new one, never a mix.
 * - If the file changed on disk since bfs_config_edit_open(), commit
 *   refuses (EAGAIN) rather than lose the other writer's change.
 * - Sections are named as in their header without brackets:
 *   "bucketfs", "bucket lake", "catalog sales"; blanks inside a header
 *   do not matter ("[bucket   lake]" is "bucket lake").
 * - A key line is written "key = value". Comments attached to a section
 *   (comment lines directly above its header, with no blank line
 *   between) go with it when it is removed.
 * - Not thread-safe: one edit belongs to one thread.
 */
#ifndef BFS_CONFIG_WRITE_H
#define BFS_CONFIG_WRITE_H

#include <stdbool.h>
#include <stddef.h>

struct bfs_config_edit;

/*
 * Read path for editing. A missing file is an empty one, created (with
 * its directory, mode 0700) by commit.
 * @param edit receives the edit; free it with bfs_config_edit_free().
 * @return 0, or an errno with err set (EACCES, EFBIG, ...).
 */
int bfs_config_edit_open(const char *path, struct bfs_config_edit **edit,
			 char *err, size_t errlen);

/*
 * Set key = value in section: replace the key's line if the section has
 * it, else add the line after the section's last key, creating the
 * section at the end of the file if it does not exist.
 * @return 0, or EINVAL (bad section or key name, or a value that cannot
 *         be written on one line: a newline, NUL, leading or trailing
 *         blanks, " ;" which would start a comment, or too long).
 */
int bfs_config_edit_set(struct bfs_config_edit *edit, const char *section,
			const char *key, const char *value);

/*
 * Remove every line of key in section.
 * @return 0, ENOENT (no such section or key), EINVAL (bad names).
 */
int bfs_config_edit_unset(struct bfs_config_edit *edit, const char *section,
			  const char *key);

/*
 * Remove a section: its header, its lines, and the comments attached
 * above its header.
 * @return 0, ENOENT (no such section), EINVAL (bad name).
 */
int bfs_config_edit_remove_section(struct bfs_config_edit *edit,
				   const char *section);

/* True if section has a header in the text. */
bool bfs_config_edit_has_section(const struct bfs_config_edit *edit,
				 const char *section);

/*
 * The current text.
 * @return a malloc'd NUL-terminated string; the caller frees it.
 */
char *bfs_config_edit_text(const struct bfs_config_edit *edit);

/*
 * Validate and write the text atomically (see the invariants).
 * @return 0; EINVAL (the new text is not a valid configuration: err has
 *         "PATH:LINE: ..." for it, nothing is written); EAGAIN (the file
 *         changed since it was opened); another errno from the file
 *         system, with err set.
 */
int bfs_config_edit_commit(struct bfs_config_edit *edit, char *err,
			   size_t errlen);

/* Free an edit (uncommitted changes are dropped). NULL is a no-op. */
void bfs_config_edit_free(struct bfs_config_edit *edit);

#endif
