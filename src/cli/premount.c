/*
 * premount.c - `bucketfs mount --premount`: the FUSE mount made outside
 * systemd's sandbox (ExecStartPre=+), its /dev/fuse descriptor handed to
 * the sandboxed daemon through systemd's file descriptor store.
 *
 * Why: every sandboxing option that builds a mount namespace
 * (ProtectSystem=, PrivateTmp=, PrivateDevices= ...) makes a mount the
 * daemon does itself invisible to the host: systemd turns the service's
 * namespace into a slave of the host's before it starts the process, and
 * nothing mounted in a slave propagates back. So the mount is made here,
 * in the host's namespace with full privileges, and the daemon, started
 * after, serves it from inside the sandbox with no capability at all
 * (doc/operations.md, "systemd").
 */
#include "compat.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_priv.h"
#include "cli/notify.h"

/* The kernel's own options among a mount's FUSE options; libfuse's
 * others (auto_unmount, clone_fd ...) mean nothing without libfuse's
 * mount and are left out. */
static void kernel_opts(const char *fuse_opts, char *out, size_t len,
			unsigned long *flags)
{
	char *copy = bfs_xstrdup(fuse_opts ? fuse_opts : "");
	char *save = NULL;
	size_t n = strlen(out);

	for (char *o = strtok_r(copy, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "ro") == 0)
			*flags |= MS_RDONLY;
		else if (strcmp(o, "rw") == 0)
			*flags &= ~(unsigned long)MS_RDONLY;
		else if (strcmp(o, "allow_other") == 0 ||
			 strcmp(o, "default_permissions") == 0 ||
			 strncmp(o, "max_read=", 9) == 0)
			n += (size_t)snprintf(out + n, n < len ? len - n : 0,
					      ",%s", o);
	}
	free(copy);
}

int bfs_cli_premount(const char *mountpoint, const char *name,
		     const char *fuse_opts)
{
	unsigned long flags = MS_NOSUID | MS_NODEV;
	char data[512], source[160];
	int fd, rc;

	if (getenv("NOTIFY_SOCKET") == NULL) {
		bfs_cli_error("--premount hands the FUSE mount to systemd: run "
			      "it as ExecStartPre=+ of a unit with "
			      "FileDescriptorStoreMax=1 (see "
			      "bucketfs@.service)");
		return EINVAL;
	}
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = errno;
		bfs_cli_error("cannot open /dev/fuse: %s", strerror(rc));
		return rc;
	}
	snprintf(data, sizeof(data),
		 "fd=%d,rootmode=40000,user_id=%u,"
		 "group_id=%u",
		 fd, (unsigned)getuid(), (unsigned)getgid());
	kernel_opts(fuse_opts, data, sizeof(data), &flags);
	snprintf(source, sizeof(source), "bucketfs:%s", name ? name : "lake");
	if (mount(source, mountpoint, "fuse.bucketfs", flags, data) != 0) {
		rc = errno;
		bfs_cli_error("cannot mount on '%s': %s", mountpoint,
			      strerror(rc));
		close(fd);
		return rc;
	}
	/* a descriptor a failed start left behind would be passed first */
	bfs_notify("FDSTOREREMOVE=1\nFDNAME=fuse");
	rc = bfs_notify_fd("FDSTORE=1\nFDNAME=fuse\nFDPOLL=0", fd);
	if (rc != 0) {
		bfs_cli_error("cannot hand the FUSE descriptor to systemd: %s "
			      "(FileDescriptorStoreMax=1 and NotifyAccess=exec "
			      "in the unit?)",
			      strerror(rc));
		umount2(mountpoint, MNT_DETACH);
	}
	/* systemd holds its own copy now; until the daemon answers, a
	 * process that touches the mount waits for it */
	close(fd);
	return rc;
}
