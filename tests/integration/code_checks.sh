#!/usr/bin/env bash
# code_checks.sh - the tree itself: every C file is as clang-format leaves
# it (the check `make format-check` makes, run here so nothing drifts), and
# nothing in the project reads outside its own tree (a clone has no
# ../shared beside it). Needs no mount.
. "$(dirname "$0")/../lib.sh"

cd "$BFS_SRCDIR" || exit 1
mapfile -t cfiles < <(find src tests -name '*.[ch]' -type f | sort)
t_ok "the tree has C files to check (${#cfiles[@]})" test "${#cfiles[@]}" -gt 50
# one clang-format for all files; each finding names its file
clang-format --dry-run "${cfiles[@]}" 2>"$W/format.out"
unformatted=$(grep -o '^[^:]*\.[ch]:[0-9]*:[0-9]*: warning' "$W/format.out" | cut -d: -f1 | sort -u)
[ -z "$unformatted" ] || t_diag "not formatted (make format): $unformatted"
t_is "every C file is clang-formatted" "$unformatted" ""

outside=$(grep -rlI --exclude-dir=.git --exclude-dir=fixtures --exclude-dir=node_modules \
	-e '\.\./shared' -e 'BFS_SHARED' src tests scripts doc README.md Makefile.am configure.ac |
	grep -v '^tests/integration/code_checks.sh$')
[ -z "$outside" ] || t_diag "reads outside the tree: $outside"
t_is "nothing names ../shared or BFS_SHARED" "$outside" ""
for d in iceberg sigv4; do
	t_ok "tests/fixtures/$d is in the tree with its SOURCES.md" test -f "tests/fixtures/$d/SOURCES.md"
done
t_ok "the RGW launcher is ours (tests/tools/rgw-start)" test -x tests/tools/rgw-start
t_plan_done
