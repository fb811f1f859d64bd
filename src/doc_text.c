/*
 * doc_text.c - the layout of generated text (see doc_text.h): one word
 * wrapper and one troff escaper for --help, the sample config and the
 * man pages, so that they lay text out the same way.
 */
#include "compat.h"

#include "doc_text.h"

void bfs_doc_wrap(FILE *f, size_t width, const char *lead, const char *cont,
		  const char *text)
{
	size_t col = 0;
	const char *p = text;

	while (*p) {
		size_t w;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		w = strcspn(p, " ");
		if (col > 0 && col + 1 + w > width) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fputs(lead, f);
			col = strlen(lead);
			lead = cont;
		} else {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += w;
		p += w;
	}
	if (col)
		fputc('\n', f);
}

void bfs_doc_man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}
