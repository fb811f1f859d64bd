#!/usr/bin/env bash
# code_checks.sh - the tree itself: every C file is as clang-format leaves
# it (`make format-check` itself, so the two never differ), and
# nothing in the project reads outside its own tree (a clone has only
# itself: no folder of the workplace beside it). Needs no mount.
. "$(dirname "$0")/../lib.sh"

cd "$BFS_SRCDIR" || exit 1
mapfile -t cfiles < <(find src cache tests -name node_modules -prune -o \
	-name '*.[ch]' -type f -print | sort)
t_ok "the tree has C files to check (${#cfiles[@]})" test "${#cfiles[@]}" -gt 50
# the Makefile's check, on its list of files; each finding names its file
make -s -C "$BFS_BUILD" format-check >"$W/format.out" 2>&1
st=$?
unformatted=$(grep -o '^[^:]*\.[ch]:[0-9]*:[0-9]*: \(warning\|error\)' "$W/format.out" | cut -d: -f1 | sort -u)
[ -z "$unformatted" ] || t_diag "not formatted (make format): $unformatted"
[ "$st" -eq 0 ] || t_diag_file "$W/format.out"
t_is "make format-check passes: every C file is clang-formatted" "$st" 0
t_is "... and names no file" "$unformatted" ""
checked=$(make -s -C "$BFS_BUILD" format-files 2>/dev/null | wc -w)
t_ok "format-check sees every C file of the tree ($checked of ${#cfiles[@]})" \
	test "$checked" -ge "${#cfiles[@]}"

# the workplace's folder beside the clone, and the variable that once
# named it, spelled in pieces so that this file does not name them itself
sibling=shared
outside=$(grep -rlI --exclude-dir=.git --exclude-dir=fixtures --exclude-dir=node_modules \
	-e "\\.\\./$sibling" -e "BFS_${sibling^^}" src tests scripts doc README.md Makefile.am configure.ac)
[ -z "$outside" ] || t_diag "reads outside the tree: $outside"
t_is "nothing names the workplace's folder beside the clone" "$outside" ""
for d in iceberg sigv4; do
	t_ok "tests/fixtures/$d is in the tree with its SOURCES.md" test -f "tests/fixtures/$d/SOURCES.md"
done
t_ok "the RGW launcher is ours (tests/tools/rgw-start)" test -x tests/tools/rgw-start
t_plan_done
