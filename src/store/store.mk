# fragment of Makefile.am: the store interface (store.h, store.c) and its
# drivers: mem, local (local*.c), S3 (s3*.c, its XML parsers, SigV4, the
# provider table, credentials), built into src/store/libbfs_store.a.
#
# A new file of this directory is one more line of this list.
noinst_LIBRARIES += src/store/libbfs_store.a
src_store_libbfs_store_a_SOURCES = \
	src/store/creds.c \
	src/store/creds.h \
	src/store/creds_chain.c \
	src/store/creds_chain.h \
	src/store/creds_remote.c \
	src/store/creds_remote.h \
	src/store/fault.c \
	src/store/fault.h \
	src/store/local.c \
	src/store/local.h \
	src/store/local_format.c \
	src/store/local_list.c \
	src/store/local_mpu.c \
	src/store/local_names.c \
	src/store/local_priv.h \
	src/store/local_write.c \
	src/store/mem.c \
	src/store/mem.h \
	src/store/providers.c \
	src/store/providers.h \
	src/store/s3.c \
	src/store/s3.h \
	src/store/s3_bucket.c \
	src/store/s3_copy.c \
	src/store/s3_errors.c \
	src/store/s3_helpers.c \
	src/store/s3_list.c \
	src/store/s3_mpu.c \
	src/store/s3_object.c \
	src/store/s3_priv.h \
	src/store/s3_request.c \
	src/store/s3_xml.c \
	src/store/s3_xml.h \
	src/store/sigv4.c \
	src/store/sigv4.h \
	src/store/slow.c \
	src/store/slow.h \
	src/store/store.c \
	src/store/store.h \
	src/store/trace.c \
	src/store/trace.h \
	src/store/upload.h \
	src/store/upload_file.c \
	src/store/upload_hash.c \
	src/store/upload_parts.c \
	src/store/upload_pool.c \
	src/store/upload_priv.h \
	src/store/upload_size.c \
	src/store/upload_stream.c
