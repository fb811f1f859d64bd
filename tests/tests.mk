# fragment of Makefile.am: see the header of Makefile.am
#
# The test harness (tests/run, tests/lib.sh, tests/integration/).
#   make check        builds bucketfs and the unit test programs, then
#                     runs tests/run (every unit and integration test)
#   make check-build  only builds them (README: make check-build && tests/run,
#                     so that the runner's summary is the last line printed)
EXTRA_DIST += tests/run tests/lib.sh

check-build: all $(check_PROGRAMS)
.PHONY: check-build

check-local:
	BFS_BUILD="$(abs_top_builddir)" "$(abs_top_srcdir)/tests/run"
