# fragment of Makefile.am: the namespace layer (src/catalog/)
libbfs_a_SOURCES += src/catalog/ns.h src/catalog/ns.c \
	src/catalog/vdir.h src/catalog/vdir.c \
	src/catalog/bucket_view.h src/catalog/bucket_view.c \
	src/catalog/stack.h src/catalog/stack.c \
	src/catalog/lake.h src/catalog/lake.c
