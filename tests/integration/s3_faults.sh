#!/usr/bin/env bash
# s3_faults.sh - the S3 store driver through tests/tools/faultproxy.py in
# front of Ceph RGW: 503 SlowDown, 500 once, resets mid-body (answer and
# request), a stall past the timeout, a lost answer, malformed XML. Reads
# and writes must succeed after retries where a retry is safe, fail with a
# clear error otherwise, and leave no half-written object (the suite HEADs
# the keys afterwards). Every timeout is seconds, so the run is bounded.
# Prints TAP; exits non-zero if any case failed.
#
# Environment: as tests/integration/s3_store.sh (BFS_BUILDDIR, BFS_SRCDIR,
# BFS_SHARED, and BFS_RGW_URL/ACCESS/SECRET to reuse a running RGW).
set -u

here=$(cd "$(dirname "$0")" && pwd)
SRC=${BFS_SRCDIR:-$(cd "$here/../.." && pwd)}
BUILD=${BFS_BUILDDIR:-$PWD}
SHARED=${BFS_SHARED:-$SRC/../shared}
BIN=$BUILD/tests/unit/test_s3_store
BUCKET=bfs-faults

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }

W=$(mktemp -d "${TMPDIR:-/tmp}/bfs-s3-faults.XXXXXX")
proxy_pid=
rgw_dir=
cleanup() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
	[ -n "$rgw_dir" ] && "$SHARED/tools/rgw-stop" "$rgw_dir" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT

run_tap() {
	local label=$1 secret=$2 out err st
	shift 2
	out=$W/$label.tap
	err=$W/$label.err
	timeout 300 "$@" >"$out" 2>"$err"
	st=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "[$label] ${line#* - }" ;;
		"not ok "*) notok "[$label] ${line#* - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$out"
	if [ "$st" -ne 0 ] && ! grep -q '^not ok' "$out"; then
		notok "[$label] exited with status $st"
		tail -20 "$err" | sed 's/^/#   /'
	fi
	if grep -qF "$secret" "$out" "$err"; then
		notok "[$label] a secret key appears in the output"
	fi
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$err"; then
		notok "[$label] sanitizer report"
		grep -E -A5 'Sanitizer|runtime error' "$err" | head -40 | sed 's/^/#   /'
	fi
}

if [ ! -x "$BIN" ]; then
	notok "test_s3_store is built ($BIN missing: run make check first)"
	finish
fi

if [ -n "${BFS_RGW_URL:-}" ]; then
	echo "RGW_URL=$BFS_RGW_URL RGW_ACCESS=$BFS_RGW_ACCESS RGW_SECRET=$BFS_RGW_SECRET" >"$W/rgw.out"
else
	rgw_dir=$W/rgw
	if ! "$SHARED/tools/rgw-start" "$rgw_dir" >"$W/rgw.out" 2>&1; then
		notok "Ceph RGW started"
		sed 's/^/#   /' "$W/rgw.out" | tail -10
		finish
	fi
fi
RGW_URL= RGW_ACCESS= RGW_SECRET=
for kv in $(tail -1 "$W/rgw.out"); do
	case $kv in
	RGW_URL=*) RGW_URL=${kv#*=} ;;
	RGW_ACCESS=*) RGW_ACCESS=${kv#*=} ;;
	RGW_SECRET=*) RGW_SECRET=${kv#*=} ;;
	esac
done
if [ -z "$RGW_URL" ]; then
	notok "Ceph RGW started (no RGW_URL in its output)"
	finish
fi
ok "Ceph RGW listens at $RGW_URL"

export BFS_S3_BUCKET=$BUCKET BFS_S3_ACCESS=$RGW_ACCESS BFS_S3_SECRET=$RGW_SECRET
BFS_S3_URL=$RGW_URL run_tap mkbucket "$RGW_SECRET" "$BIN" mkbucket

control=$W/faults.ctl
echo "0 none 0 *" >"$control"
python3 "$SRC/tests/tools/faultproxy.py" --upstream "$RGW_URL" \
	--control "$control" --port-file "$W/proxy.port" \
	>"$W/proxy.out" 2>"$W/proxy.log" &
proxy_pid=$!
for _ in $(seq 50); do
	[ -s "$W/proxy.port" ] && break
	sleep 0.1
done
if [ ! -s "$W/proxy.port" ]; then
	notok "fault proxy started"
	sed 's/^/#   /' "$W/proxy.log" | tail -10
	finish
fi
ok "fault proxy listens on 127.0.0.1:$(cat "$W/proxy.port")"

BFS_S3_URL=http://127.0.0.1:$(cat "$W/proxy.port") \
	BFS_FAULT_CONTROL=$control run_tap faults "$RGW_SECRET" "$BIN" faults
# the proxy did inject: each fault leaves one line in its log
injected=$(grep -c '^faultproxy: ' "$W/proxy.log")
if [ "$injected" -ge 15 ]; then
	ok "the proxy injected $injected faults"
else
	notok "the proxy injected $injected faults (expected at least 15)"
fi
finish
