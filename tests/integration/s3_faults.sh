#!/usr/bin/env bash
# s3_faults.sh - the S3 store driver through tests/tools/faultproxy.py in
# front of Ceph RGW: 503 SlowDown, 500 once, resets mid-body (answer and
# request), a stall past the timeout, lost answers, malformed XML,
# Retry-After. Reads and writes must succeed after retries where a retry is
# safe, fail with a clear error otherwise, and leave no half-written object
# (the suite HEADs the keys afterwards). Timeouts are 2 s and retries 3,
# so the run is bounded (about 15 s after RGW is up).
#
# Environment: as tests/lib.sh (BFS_RGW_URL/ACCESS/SECRET reuse a running
# RGW); BFS_BUILD (or BFS_BUILDDIR) holds tests/unit/test_s3_store.
. "$(dirname "$0")/../lib.sh"

BIN=${BFS_BUILDDIR:-$BFS_BUILD}/tests/unit/test_s3_store
BUCKET=bfs-faults

[ -x "$BIN" ] || t_abort "test_s3_store is built ($BIN missing: make check)"

run_tap()
{
	local label=$1 secret=$2 out err st line
	shift 2
	out=$W/$label.tap
	err=$W/$label.err
	timeout 300 "$@" >"$out" 2>"$err"
	st=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) _t_result 0 "[$label] ${line#* - }" ;;
		"not ok "*) _t_result 1 "[$label] ${line#* - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$out"
	if [ "$st" -ne 0 ] && ! grep -q '^not ok' "$out"; then
		_t_result 1 "[$label] exited with status $st"
		t_diag_file "$err"
	fi
	if grep -qF "$secret" "$out" "$err"; then
		_t_result 1 "[$label] no secret key in the output"
	fi
}

store_start_rgw || t_abort "Ceph RGW starts"
_t_result 0 "Ceph RGW listens at $STORE_URL"
export BFS_S3_BUCKET=$BUCKET BFS_S3_ACCESS=$STORE_ACCESS
export BFS_S3_SECRET=$STORE_SECRET
BFS_S3_URL=$STORE_URL run_tap mkbucket "$STORE_SECRET" "$BIN" mkbucket

control=$W/faults.ctl
echo "0 none 0 *" >"$control"
python3 "$BFS_SRCDIR/tests/tools/faultproxy.py" --upstream "$STORE_URL" \
	--control "$control" --port-file "$W/proxy.port" \
	>"$W/proxy.out" 2>"$W/proxy.log" &
proxy_pid=$!
_t_stop+=("kill $proxy_pid 2>/dev/null; wait $proxy_pid 2>/dev/null")
wait_for 10 test -s "$W/proxy.port" || {
	t_diag_file "$W/proxy.log"
	t_abort "the fault proxy starts"
}
_t_result 0 "fault proxy listens on 127.0.0.1:$(cat "$W/proxy.port")"

BFS_S3_URL=http://127.0.0.1:$(cat "$W/proxy.port") \
	BFS_FAULT_CONTROL=$control run_tap faults "$STORE_SECRET" "$BIN" faults
# the faults really were injected: the proxy logs each one
injected=$(grep -c '^faultproxy: ' "$W/proxy.log")
if [ "$injected" -ge 15 ]; then
	_t_result 0 "the proxy injected $injected faults"
else
	_t_result 1 "the proxy injected $injected faults (at least 15 expected)"
	t_diag_file "$W/proxy.log"
fi
t_plan_done
