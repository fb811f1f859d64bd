# fragment of Makefile.am: the FUSE layer (src/fs/)
libbfs_a_SOURCES += src/fs/fs.h src/fs/fs_priv.h \
	src/fs/inode.h src/fs/inode.c \
	src/fs/staging.h src/fs/staging.c \
	src/fs/upload.h src/fs/upload.c \
	src/fs/mime.h src/fs/mime.c \
	src/fs/attr.c src/fs/times.h src/fs/times.c src/fs/perm.c src/fs/s3fs_meta.c src/fs/symlink.c src/fs/mknod.c src/fs/xattr.c src/fs/recovery.h src/fs/recovery.c src/fs/stream.h src/fs/stream.c src/fs/ops.c src/fs/dir.c src/fs/dirops.c src/fs/invalidate.c
