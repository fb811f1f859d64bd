# fragment of Makefile.am: see the header of Makefile.am
#
# The benchmark (tests/bench/run, issue 6): not part of make check.
#   make bench    builds bucketfs, then runs tests/bench/run, which prints
#                 one table and writes doc/benchmarks.md in the source tree
#                 (needs root; about 10 minutes on 2 cores per pair of
#                 server and profile: PROFILE=, SERVER= or
#                 tests/bench/run --profile/--server to choose)
bench: bucketfs$(EXEEXT)
	BFS_BUILD="$(abs_top_builddir)" "$(abs_top_srcdir)/tests/bench/run"
.PHONY: bench
