# fragment of Makefile.am: test helpers written in C (tests/tools/),
# linked with the layer libraries like the unit tests.
# ice_rewrite rewrites the paths inside Iceberg Avro files.
check_PROGRAMS += tests/tools/ice_rewrite
