/*
 * readahead.c - the kernel's read-ahead for a FUSE mount (see
 * readahead.h). The kernel gives a FUSE mount 128 KiB of read-ahead, so
 * a sequential reader reaches the daemon in 128 KiB READs however large
 * max_read is; raising the backing device's read_ahead_kb lets a
 * request carry up to max_pages (1 MiB): an eighth of the requests, each
 * served from one cached block.
 */
#include "compat.h"

#include <stdio.h>

#include "cli/readahead.h"
#include "util.h"

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

int bfs_mount_device(const char *mp, char *dev, size_t devlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = ENOENT;

	if (f == NULL)
		return errno;
	while (getline(&line, &cap, f) > 0) {
		char majmin[64], point[4096];

		/* id parent MAJ:MIN root mountpoint ... */
		if (sscanf(line, "%*s %*s %63s %*s %4095s", majmin, point) != 2)
			continue;
		unescape(point);
		if (strcmp(point, mp) != 0)
			continue;
		/* the newest mount on mp is the last one listed */
		snprintf(dev, devlen, "%s", majmin);
		rc = 0;
	}
	free(line);
	fclose(f);
	return rc;
}

/* The read_ahead_kb file of device dev. */
static void readahead_path(const char *dev, char *path, size_t len)
{
	snprintf(path, len, "/sys/class/bdi/%s/read_ahead_kb", dev);
}

int bfs_set_readahead(const char *dev, uint64_t bytes)
{
	char path[128];
	FILE *f;
	int rc = 0;

	readahead_path(dev, path, sizeof(path));
	f = fopen(path, "we");
	if (f == NULL)
		return errno;
	if (fprintf(f, "%llu\n", (unsigned long long)(bytes / 1024)) < 0)
		rc = errno ? errno : EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = errno;
	return rc;
}

int bfs_get_readahead(const char *dev, uint64_t *bytes)
{
	char path[128];
	uint64_t kb;
	int rc;

	readahead_path(dev, path, sizeof(path));
	rc = bfs_read_u64_file(path, &kb);
	if (rc == 0)
		*bytes = kb * 1024;
	return rc;
}
