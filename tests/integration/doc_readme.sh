#!/usr/bin/env bash
# doc_readme.sh - .ci/run runs exactly the README's test command, and the
# README's commands (main job, tests, benchmark) name scripts and targets
# that exist. Needs no mount.
. "$(dirname "$0")/../lib.sh"

readme=$BFS_SRCDIR/README.md
ci=$BFS_SRCDIR/.ci/run
main_cmd=$(grep -m1 '^scripts/install-deps .*scripts/demo$' "$readme")
test_cmd=$(grep -m1 '^scripts/install-deps .*tests/run$' "$readme")
t_ok "README.md has the main command (install, build, scripts/demo)" test -n "$main_cmd"
t_ok "README.md has the test command (install, build, tests/run)" test -n "$test_cmd"
t_is ".ci/run's last line is the README's test command" \
	"$(grep -v '^\s*$' "$ci" | tail -n 1)" "$test_cmd"
t_ok ".ci/run is executable" test -x "$ci"
for f in scripts/install-deps scripts/demo tests/run; do
	t_ok "$f exists and is executable" test -x "$BFS_SRCDIR/$f"
done
t_ok "scripts/install-deps parses" bash -n "$BFS_SRCDIR/scripts/install-deps"
t_ok "scripts/demo parses" bash -n "$BFS_SRCDIR/scripts/demo"
bench_cmd=$(grep -m1 '^scripts/install-deps .*make -j2 bench$' "$readme")
t_ok "README.md has the benchmark command (install, build, make bench)" test -n "$bench_cmd"
t_ok "make bench is a target" grep -q '^bench:' "$BFS_SRCDIR/tests/bench/bench.mk"
t_ok "tests/bench/run is executable" test -x "$BFS_SRCDIR/tests/bench/run"
t_ok "tests/bench/bench.py parses" python3 -c "import ast, sys; ast.parse(open(sys.argv[1]).read())" "$BFS_SRCDIR/tests/bench/bench.py"
t_plan_done
