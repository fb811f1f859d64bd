# fragment of Makefile.am: see the header of Makefile.am
#
# The test harness (tests/run, tests/lib.sh, tests/integration/).
#   make check        builds bucketfs and the unit test programs, then
#                     runs tests/run (every unit and integration test)
#   make check-build  only builds them (README: make check-build && tests/run,
#                     so that the runner's summary is the last line printed)
EXTRA_DIST += tests/run tests/lib.sh

check-build: all
	$(MAKE) $(AM_MAKEFLAGS) $(check_PROGRAMS)
.PHONY: check-build

check-local:
	BFS_BUILD="$(abs_top_builddir)" "$(abs_top_srcdir)/tests/run"

# Objects do not depend on the compiler flags, so a tree configured again
# with or without --enable-sanitizers would link old objects with the new
# flags (and fail, or test code that is not instrumented). The flags are
# kept in a stamp; when they change (or a tree has no stamp yet), every
# object is removed first.
BUILT_SOURCES = .deps/bfs-build-flags
.deps/bfs-build-flags: FORCE
	@$(MKDIR_P) .deps; \
	echo '$(CC) $(AM_CFLAGS) $(CFLAGS) $(AM_LDFLAGS) $(LDFLAGS)' >$@.new; \
	if cmp -s $@ $@.new; then rm -f $@.new; else \
	  test ! -f $@ || echo "  the build flags changed: rebuilding everything"; \
	  find . -path ./tests/tools/node_modules -prune -o -name '*.o' -type f -exec rm -f {} +; \
	  rm -f $(noinst_LIBRARIES) $(bin_PROGRAMS) $(check_PROGRAMS); \
	  mv -f $@.new $@; fi
FORCE:
.PHONY: FORCE
