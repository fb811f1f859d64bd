# fragment of Makefile.am: the FUSE layer (src/fs/), built into
# src/fs/libbfs_fs.a.
#
# A new file of this directory is one more line of this list.
noinst_LIBRARIES += src/fs/libbfs_fs.a
src_fs_libbfs_fs_a_SOURCES = \
	src/fs/attr.c \
	src/fs/dir.c \
	src/fs/dirops.c \
	src/fs/fs.h \
	src/fs/fs_priv.h \
	src/fs/inode.c \
	src/fs/inode.h \
	src/fs/inum.c \
	src/fs/inum.h \
	src/fs/interrupt.c \
	src/fs/invalidate.c \
	src/fs/mime.c \
	src/fs/mime.h \
	src/fs/mknod.c \
	src/fs/newnode.c \
	src/fs/ops.c \
	src/fs/perm.c \
	src/fs/read_reply.c \
	src/fs/readfail.c \
	src/fs/readfail.h \
	src/fs/recovery.c \
	src/fs/recovery.h \
	src/fs/s3fs_meta.c \
	src/fs/staging.c \
	src/fs/staging.h \
	src/fs/symlink.c \
	src/fs/times.c \
	src/fs/times.h \
	src/fs/xattr.c
