/*
 * doc_text.h - the layout of generated text, shared by the docs made
 * from the key tables (conf_doc.c) and by the command help and man page
 * (cli/help.c): word wrapping and troff escapes.
 */
#ifndef BFS_DOC_TEXT_H
#define BFS_DOC_TEXT_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write the words of text (separated by spaces) wrapped at width
 * columns: the first line starts with lead, the others with cont. A word
 * longer than a line stands alone on its line. Nothing for an empty text.
 */
void bfs_doc_wrap(FILE *f, size_t width, const char *lead, const char *cont,
		  const char *text);

/* Write s as troff text: '\' and '-' escaped, a leading '.' or '\''
 * protected so that it is no request. */
void bfs_doc_man_text(FILE *f, const char *s);

#endif
