# fragment of Makefile.am: the namespace layer (src/catalog/): the lake
# root, bucket views, catalogs (managed, bucket-tables, Iceberg) and the
# store stack of a bucket, built into src/catalog/libbfs_catalog.a.
#
# A new file of this directory is one more line of this list.
noinst_LIBRARIES += src/catalog/libbfs_catalog.a
src_catalog_libbfs_catalog_a_SOURCES = \
	src/catalog/bucket_tables.c \
	src/catalog/bucket_tables.h \
	src/catalog/bucket_view.c \
	src/catalog/bucket_view.h \
	src/catalog/glob.c \
	src/catalog/glob.h \
	src/catalog/head_pool.c \
	src/catalog/head_pool.h \
	src/catalog/ice_avro.c \
	src/catalog/ice_avro.h \
	src/catalog/ice_deletes.c \
	src/catalog/ice_deletes.h \
	src/catalog/ice_partition.c \
	src/catalog/ice_partition.h \
	src/catalog/ice_resolve.c \
	src/catalog/ice_resolve.h \
	src/catalog/iceberg_ns.c \
	src/catalog/iceberg_ns.h \
	src/catalog/lake.c \
	src/catalog/lake.h \
	src/catalog/ns.c \
	src/catalog/ns.h \
	src/catalog/stack.c \
	src/catalog/stack.h \
	src/catalog/stack_s3.c \
	src/catalog/stack_s3.h \
	src/catalog/vdir.c \
	src/catalog/vdir.h
