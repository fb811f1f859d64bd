#!/usr/bin/env bash
# doc_semantics.sh - every test doc/SEMANTICS.md names exists: each
# reference `SCRIPT.sh: "case", "case"` or `test_NAME: "case"` must name a
# script or unit test source that holds that case name (as a substring of
# a quoted name in its source), so the page cannot point at tests that
# were renamed or removed (mountpoint-s3's semantics_doc_test idea).
# Needs no mount.
. "$(dirname "$0")/../lib.sh"

doc=$BFS_SRCDIR/doc/SEMANTICS.md
[ -f "$doc" ] || t_abort "doc/SEMANTICS.md exists"

# One line per reference: "FILE<TAB>CASE". A reference starts at
# "name.sh:" or "test_name:" and takes the quoted strings after it, up to
# the next ';', '|' (table cell) or sentence end outside quotes.
python3 - "$doc" >"$W/refs" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
text = text.replace('\\|', '\x00')      # escaped pipes inside table cells
text = re.sub(r'\s*\n\s*', ' ', text)   # claims wrap over lines
pat = re.compile(r'\b((?:[a-z0-9_]+\.sh)|(?:test_[a-z0-9_]+)):((?:\s*"[^"]*"\s*,?)+)')
for m in pat.finditer(text):
    for case in re.findall(r'"([^"]*)"', m.group(2)):
        print(m.group(1) + '\t' + case.replace('\x00', '|'))
EOF
t_ok "doc/SEMANTICS.md names tests" test -s "$W/refs"
n=0
while IFS=$'\t' read -r file case; do
	n=$((n + 1))
	case $file in
	*.sh) src=$BFS_SRCDIR/tests/integration/$file ;;
	*) src=$BFS_SRCDIR/tests/unit/$file.c ;;
	esac
	if [ ! -f "$src" ]; then
		_t_result 1 "SEMANTICS.md names $file, which does not exist"
		continue
	fi
	if grep -qF -- "$case" "$src"; then
		_t_result 0 "$file has the case '$case'"
	else
		_t_result 1 "$file has the case '$case'"
		t_diag "doc/SEMANTICS.md cites it; rename it there too"
	fi
done <"$W/refs"
t_diag "$n references checked"
t_plan_done
