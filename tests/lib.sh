# tests/lib.sh - sourced by every tests/integration/*.sh script.
#
# Gives a script:
#   - TAP output: t_ok, t_fails, t_fails_with, t_is, t_diag, t_abort,
#     t_plan_done (prints the plan "1..N" and exits 0 or 1);
#   - a private work dir $W under ${TMPDIR:-/tmp}, removed on exit;
#   - a store to mount, chosen by $BFS_TEST_STORE (builtin, rgw, s3rver):
#     bfs_store_setup writes $BFS_CONF and sets $BFS_BUCKET, the name of
#     the bucket under test;
#   - bfs_mount / bfs_mount_daemon / bfs_umount: the daemon started with
#     its log in $W, the mount point $BFS_MNT, and $BFS_B, the bucket's
#     directory inside the mount. Every mount made here is unmounted on
#     exit, whatever happened; bfs_mount_shared mounts with
#     allow_other,default_permissions for tests run as root and as
#     another user (as_nobody);
#   - a check of every daemon log and sanitizer report (libfuse's
#     test/util.py idea: a log with a suspicious word fails the test);
#   - free_port, store_start_rgw, store_start_s3rver, s3_mkbucket,
#     bfs_faultproxy_start (a mount's bucket behind tests/tools/faultproxy.py)
#     with set_rules and calm to arm and disarm its faults.
#
# Environment (tests/run exports these): BFS_SRCDIR (source tree),
# BFS_BUILD (build tree, where ./bucketfs is), BFS_FIXTURES (tests/fixtures),
# BFS_TEST_STORE (default builtin). BFS_TEST_DEBUG=1 mounts with
# -o log_level=debug,debug=fs so the daemon log says more.
# BFS_RGW_URL, BFS_RGW_ACCESS, BFS_RGW_SECRET: an RGW that is already
# running (tests/run starts one for all scripts); BFS_KEEP=1 keeps $W.

set -u
# English error texts (t_fails_with) and byte order (sort)
export LC_ALL=C

_lib_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BFS_SRCDIR=${BFS_SRCDIR:-$(cd "$_lib_here/.." && pwd)}
BFS_BUILD=${BFS_BUILD:-$BFS_SRCDIR}
BFS_FIXTURES=${BFS_FIXTURES:-$BFS_SRCDIR/tests/fixtures}
BFS_TOOLS=$BFS_SRCDIR/tests/tools
BFS_TEST_STORE=${BFS_TEST_STORE:-builtin}
BFS_BIN=${BFS_BIN:-$BFS_BUILD/bucketfs}
export BFS_SRCDIR BFS_BUILD BFS_FIXTURES BFS_TOOLS BFS_TEST_STORE

T_NAME=$(basename "$0" .sh)
W=$(mktemp -d "${TMPDIR:-/tmp}/bfs-$T_NAME.XXXXXX") || {
	echo "not ok 1 - cannot create a work dir"
	echo "1..1"
	exit 1
}
mkdir -p "$W/san"
# Sanitizer reports go to files: a daemon's stderr is /dev/null once it
# has detached. Checked at each unmount and at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$W/san/asan:detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$W/san/ubsan:print_stacktrace=1"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}log_path=$W/san/lsan"

_t_n=0
_t_failed=0
_t_done=0
_t_mounts=()	    # mount points to unmount on exit
declare -A _t_pid_of # mount point -> daemon PID to wait for
declare -A _t_log_of # mount point -> its log
_t_stop=()	    # commands that stop the store servers, run on exit
_t_expect_log=()    # extended regexps of log lines a test provokes

# ---------------------------------------------------------------- TAP

# t_diag TEXT...: a diagnostic line (shown by tests/run under a failure)
t_diag()
{
	printf '#   %s\n' "$*"
}

# t_diag_file FILE [N]: the last N (default 20) lines of FILE as diagnostics
t_diag_file()
{
	[ -s "$1" ] || return 0
	tail -n "${2:-20}" "$1" | cut -c1-300 | sed 's/^\(#   \)\{0,1\}/#   /'
}

_t_result()
{
	_t_n=$((_t_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_t_n - $2"
	else
		_t_failed=$((_t_failed + 1))
		echo "not ok $_t_n - $2"
	fi
}

# t_ok NAME CMD...: passes when CMD exits 0; shows CMD's output if not
t_ok()
{
	local name=$1 st
	shift
	"$@" >"$W/.t_out" 2>&1
	st=$?
	_t_result "$st" "$name"
	if [ "$st" -ne 0 ]; then
		t_diag "command: $* (exit $st)"
		t_diag_file "$W/.t_out"
	fi
	return "$st"
}

# t_fails NAME CMD...: passes when CMD exits non-zero
t_fails()
{
	local name=$1 st
	shift
	"$@" >"$W/.t_out" 2>&1
	st=$?
	if [ "$st" -ne 0 ]; then
		_t_result 0 "$name"
		return 0
	fi
	_t_result 1 "$name"
	t_diag "command: $* succeeded but should have failed"
	t_diag_file "$W/.t_out"
	return 1
}

# t_fails_with NAME TEXT CMD...: passes when CMD exits non-zero and its
# output contains TEXT (an strerror text such as "Directory not empty")
t_fails_with()
{
	local name=$1 text=$2 st
	shift 2
	"$@" >"$W/.t_out" 2>&1
	st=$?
	if [ "$st" -ne 0 ] && grep -qF -- "$text" "$W/.t_out"; then
		_t_result 0 "$name"
		return 0
	fi
	_t_result 1 "$name"
	t_diag "command: $* (exit $st), wanted failure with '$text'"
	t_diag_file "$W/.t_out"
	return 1
}

# t_is NAME GOT WANT: passes when the two strings are equal
t_is()
{
	if [ "$2" = "$3" ]; then
		_t_result 0 "$1"
		return 0
	fi
	_t_result 1 "$1"
	t_diag "got:  '$(printf '%s' "$2" | head -c 400)'"
	t_diag "want: '$(printf '%s' "$3" | head -c 400)'"
	return 1
}

# t_abort REASON: a failure after which the script cannot go on
t_abort()
{
	_t_result 1 "$1"
	t_plan_done
}

# t_plan_done: unmounts what is still mounted, checks every daemon log
# and sanitizer report (one case each), prints the plan and exits
t_plan_done()
{
	_t_cleanup_mounts
	bfs_log_check "daemon logs have no suspicious lines"
	_t_check_sanitizers
	_t_done=1
	echo "1..$_t_n"
	[ "$_t_failed" -eq 0 ]
	exit $?
}

# ------------------------------------------------------------- helpers

# free_port: a TCP port on 127.0.0.1 that nobody listens on now
free_port()
{
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# rand_file FILE MIB: FILE filled with MIB MiB of random bytes
rand_file()
{
	head -c "$(($2 * 1048576))" /dev/urandom >"$1"
}

# is_mounted DIR: DIR is a mount point now (per /proc/self/mountinfo)
is_mounted()
{
	local d
	d=$(readlink -f "$1") || return 1
	awk -v d="$d" '$5 == d { f = 1 } END { exit !f }' /proc/self/mountinfo
}

# wait_for SECONDS CMD...: retries CMD every 0.1 s until it succeeds
wait_for()
{
	local tries=$(($1 * 10))
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# now_ms: the wall clock in milliseconds; past_ms MARK MS: MS ms have
# passed since MARK (a now_ms value). For a TTL that must have run out,
# counted from after the entries were cached, where polling the effect
# would disturb what is counted: `wait_for 30 past_ms "$mark" 2000`
now_ms() { date +%s%3N; }
past_ms() { [ "$(now_ms)" -ge $(($1 + $2)) ]; }

# bfs_ice_rows_sql DIR: a DuckDB query for the rows of the Iceberg
# snapshot directory DIR (a table's current/ in a mount) with the deletes
# applied that each data file's user.iceberg.deletes names, from the
# mount alone, as a reader without the metadata would: position deletes
# matched on user.iceberg.file_path (on the path part: Impala's delete
# rows say hdfs://host:port/… where its manifests say /…) and pos;
# equality deletes on the columns whose Parquet field ids the delete's
# user.iceberg.equality_ids names, nulls equal. One DuckDB run per
# equality delete file (for its column names), none per data file.
bfs_ice_rows_sql()
{
	local cur=$1 f fp d list where ids cols cond c sql=
	local q="node $BFS_SRCDIR/tests/tools/duckdb_query.mjs"
	local -A eqcols=()
	_bfs_ix() { getfattr --absolute-names --only-values -n "user.iceberg.$1" "$2"; }
	while IFS= read -r f; do
		fp=$(_bfs_ix file_path "$cur/$f") || return 1
		list= where=
		while IFS= read -r d; do
			[ -n "$d" ] || continue
			case $(_bfs_ix content "$cur/$d") in
			position-deletes) list="$list${list:+, }'$cur/$d'" ;;
			equality-deletes)
				if [ -z "${eqcols[$d]:-}" ]; then
					ids=$(_bfs_ix equality_ids "$cur/$d") || return 1
					cols=$($q "select name from parquet_schema('$cur/$d') where field_id in ($ids)")
					[ "$(echo "$cols" | wc -w)" = "$(echo "$ids" | tr ',' ' ' | wc -w)" ] || return 1
					eqcols[$d]=$cols
				fi
				cond=
				for c in ${eqcols[$d]}; do
					cond="$cond and e.\"$c\" is not distinct from t.\"$c\""
				done
				where="$where and not exists (select 1 from read_parquet('$cur/$d') e where true$cond)"
				;;
			*) return 1 ;;
			esac
		done <<<"$(_bfs_ix deletes "$cur/$f")"
		[ -z "$list" ] ||
			where="$where and file_row_number not in (select pos from read_parquet([$list]) where regexp_replace(file_path, '^[a-z0-9]+://[^/]*', '') = regexp_replace('$fp', '^[a-z0-9]+://[^/]*', ''))"
		sql="$sql${sql:+ union all by name }(select * exclude (file_row_number) from read_parquet('$cur/$f', file_row_number = true) t where true$where)"
	done <<<"$(cd "$cur" && find . -type f -not -path './.deletes/*' | sed 's|^\./||')"
	echo "$sql"
}

# ------------------------------------------------------------- stores

# store_start_rgw: a Ceph RGW for this script (or the one tests/run
# started, named by BFS_RGW_URL...). Sets STORE_URL, STORE_ACCESS,
# STORE_SECRET; stopped on exit.
store_start_rgw()
{
	local kv dir=$W/rgw
	if [ -n "${BFS_RGW_URL:-}" ]; then
		STORE_URL=$BFS_RGW_URL
		STORE_ACCESS=$BFS_RGW_ACCESS
		STORE_SECRET=$BFS_RGW_SECRET
		return 0
	fi
	if ! "$BFS_TOOLS/rgw-start" "$dir" >"$W/rgw.out" 2>&1; then
		t_diag "rgw-start failed:"
		t_diag_file "$W/rgw.out"
		"$BFS_TOOLS/rgw-stop" "$dir" >/dev/null 2>&1
		return 1
	fi
	_t_stop+=("\"\$BFS_TOOLS/rgw-stop\" \"$dir\"")
	STORE_URL= STORE_ACCESS= STORE_SECRET=
	for kv in $(tail -n 1 "$W/rgw.out"); do
		case $kv in
		RGW_URL=*) STORE_URL=${kv#*=} ;;
		RGW_ACCESS=*) STORE_ACCESS=${kv#*=} ;;
		RGW_SECRET=*) STORE_SECRET=${kv#*=} ;;
		esac
	done
	[ -n "$STORE_URL" ] && [ -n "$STORE_SECRET" ]
}

# s3rver_js: where scripts/install-deps put s3rver (npm, tests/tools)
s3rver_js()
{
	echo "$BFS_SRCDIR/tests/tools/node_modules/s3rver/bin/s3rver.js"
}

# store_start_s3rver BUCKET: an s3rver on a free port with BUCKET in it.
# Sets STORE_URL, STORE_ACCESS, STORE_SECRET; stopped by PID on exit.
store_start_s3rver()
{
	local js port pid
	js=$(s3rver_js)
	if [ ! -f "$js" ]; then
		t_diag "s3rver is not installed at $js (run scripts/install-deps)"
		return 1
	fi
	port=$(free_port)
	# s3rver 3.7.1 makes continuation tokens with DES, which OpenSSL 3
	# keeps in its legacy provider
	node --openssl-legacy-provider "$js" --directory "$W/s3rver" \
		--address 127.0.0.1 --port "$port" --silent \
		--configure-bucket "$1" >"$W/s3rver.log" 2>&1 &
	pid=$!
	_t_stop+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
	if ! wait_for 30 curl -s -o /dev/null "http://127.0.0.1:$port/"; then
		t_diag "s3rver did not answer on 127.0.0.1:$port"
		t_diag_file "$W/s3rver.log"
		return 1
	fi
	STORE_URL=http://127.0.0.1:$port
	STORE_ACCESS=S3RVER
	STORE_SECRET=S3RVER
}

# s3_curl METHOD PATH [CURL ARGS...]: one request signed with SigV4 (curl's
# --aws-sigv4) to $STORE_URL/PATH (PATH is BUCKET[/KEY][?QUERY], already
# percent-encoded), with STORE_ACCESS/STORE_SECRET handed to curl on
# stdin, never in argv. Fails on an HTTP error, printing the error body.
# A fraction of a second where the aws CLI's start-up costs seconds, and
# tens of seconds on a loaded machine.
s3_curl()
{
	local m=$1 p=$2
	shift 2
	printf 'user = "%s:%s"\n' "$STORE_ACCESS" "$STORE_SECRET" |
		curl -sS --fail-with-body -K - --aws-sigv4 "aws:amz:us-east-1:s3" \
			-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X "$m" "$@" \
			"$STORE_URL/$p"
}

# s3_mkbucket URL BUCKET: creates BUCKET (s3_curl, keys from
# STORE_ACCESS/STORE_SECRET); one that is already ours is fine
s3_mkbucket()
{
	STORE_URL=$1 s3_curl PUT "$2" >"$W/mkbucket.out" 2>&1 ||
		grep -q BucketAlreadyOwnedByYou "$W/mkbucket.out"
}

# bfs_store_setup: prepares the store named by BFS_TEST_STORE and writes
# $BFS_CONF; sets BFS_BUCKET. Called by the first bfs_mount; a script may
# call it earlier to add sections (append to $BFS_CONF).
bfs_store_setup()
{
	[ -n "${BFS_CONF:-}" ] && return 0
	BFS_CONF=$W/bucketfs.conf
	mkdir -p "$W/builtin" "$W/cache" "$W/mnt"
	{
		echo "[bucketfs]"
		echo "builtin_dir = $W/builtin"
		echo "cache_dir = $W/cache"
	} >"$BFS_CONF"
	case $BFS_TEST_STORE in
	builtin)
		BFS_BUCKET=builtin
		;;
	rgw | s3rver)
		local b
		b=bfs-$(echo "$T_NAME" | tr '_' '-')-$$
		if [ "$BFS_TEST_STORE" = rgw ]; then
			store_start_rgw || return 1
			s3_mkbucket "$STORE_URL" "$b" || {
				t_diag "cannot create bucket $b on RGW"
				t_diag_file "$W/mkbucket.out"
				return 1
			}
		else
			store_start_s3rver "$b" || return 1
		fi
		BFS_BUCKET=$BFS_TEST_STORE
		{
			echo
			echo "[bucket $BFS_BUCKET]"
			echo "provider = custom"
			echo "endpoint = $STORE_URL"
			echo "bucket = $b"
		} >>"$BFS_CONF"
		export AWS_ACCESS_KEY_ID=$STORE_ACCESS
		export AWS_SECRET_ACCESS_KEY=$STORE_SECRET
		;;
	*)
		t_diag "unknown BFS_TEST_STORE '$BFS_TEST_STORE' (builtin, rgw, s3rver)"
		return 1
		;;
	esac
}

# aws_store ARGS...: the aws CLI as "another client" of the store under
# test (STORE_URL, keys from the environment bfs_store_setup exported),
# with no profile, CA bundle or config file of this machine
aws_store()
{
	env -u AWS_PROFILE -u AWS_CA_BUNDLE AWS_CONFIG_FILE=/dev/null \
		AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
		aws --endpoint-url "$STORE_URL" "$@"
}

# bfs_cache_stat LAYER COUNTER: the sum over the running daemons of one
# `bucketfs cache stats` counter; they publish about once a second, so
# wait (bfs_cache_settle) after the work to be counted
bfs_cache_stat()
{
	"$BFS_BIN" cache stats --config "$BFS_CONF" "$BFS_BUCKET" |
		awk -v l="$1" -v c="$2" '$2 == l && $3 == c { v = $4 } END { print v + 0 }'
}

# bfs_cache_settle: waits (`bucketfs cache stats --fresh`, bounded by
# 60 s) until every daemon running on the cache dir has published
# counters taken after this call, with no block fetch or prefetch of its
# still running: bfs_cache_stat then counts all the work done before,
# and a count that stayed put did not merely lag. A failed wait is a
# failed case.
bfs_cache_settle()
{
	"$BFS_BIN" cache stats --fresh --config "$BFS_CONF" "$BFS_BUCKET" \
		>"$W/.settle" 2>&1 && return 0
	_t_result 1 "the daemons publish fresh cache counters"
	t_diag_file "$W/.settle"
	return 1
}

# bfs_faultproxy_start NAME BUCKET [PROXY ARGS...]: tests/tools/faultproxy.py
# in front of $STORE_URL (store_start_rgw first), with its control file
# $control ($W/faults.ctl, armed with no fault), its log in
# $W/proxy.log, ARGS passed on (--requests FILE ...). Waits for its port
# (stopped by PID on exit; a held request is released first), then
# writes $BFS_CONF with one [bucket NAME] for BUCKET through the proxy
# and exports the store's keys. Sets control, proxy_pid, proxy_port.
# Returns non-zero if the proxy did not start.
bfs_faultproxy_start()
{
	local name=$1 bucket=$2
	shift 2
	control=$W/faults.ctl
	echo "0 none 0 *" >"$control"
	python3 "$BFS_TOOLS/faultproxy.py" --upstream "$STORE_URL" \
		--control "$control" --port-file "$W/proxy.port" "$@" \
		>"$W/proxy.out" 2>"$W/proxy.log" &
	proxy_pid=$!
	_t_stop+=("touch $control.release; kill $proxy_pid 2>/dev/null; wait $proxy_pid 2>/dev/null")
	wait_for 50 test -s "$W/proxy.port" || return 1
	proxy_port=$(cat "$W/proxy.port")
	BFS_CONF=$W/bucketfs.conf
	mkdir -p "$W/builtin" "$W/cache" "$W/mnt"
	cat >"$BFS_CONF" <<CONF
[bucketfs]
builtin_dir = $W/builtin
cache_dir = $W/cache

[bucket $name]
provider = custom
endpoint = http://127.0.0.1:$proxy_port
bucket = $bucket
CONF
	export AWS_ACCESS_KEY_ID=$STORE_ACCESS AWS_SECRET_ACCESS_KEY=$STORE_SECRET
}

# set_rules RULE...: arm the fault proxy's rules ("MODE COUNT
# METHOD[:NEEDLE]", tests/tools/faultproxy.py) at once, each under a new
# generation (so it gets its full count); the control file is renamed
# into place, so the proxy never reads half of it
_t_fp_gen=0
set_rules()
{
	local r
	for r in "$@"; do
		_t_fp_gen=$((_t_fp_gen + 1))
		echo "$_t_fp_gen $r"
	done >"$control.tmp" && mv "$control.tmp" "$control"
}

# calm: no fault armed
calm() { set_rules "none 0 *"; }

# -------------------------------------------------------------- mounts

_t_nlog=0

_t_mount_args()
{
	BFS_MNT=${BFS_MNT:-$W/mnt}
	_t_args=(mount --config "$BFS_CONF")
	if [ "${BFS_TEST_DEBUG:-}" = 1 ]; then
		_t_args+=(-o log_level=debug,debug=fs)
	fi
}

# BFS_MEMCAP_MB=N before a mount: the daemon runs under a memory cap, so
# that a daemon that grows without bound fails the test instead of taking
# the machine down. In a sanitizer build (where address-space limits
# cannot work: the shadow memory alone reserves terabytes) AddressSanitizer
# aborts past N MiB of RSS (hard_rss_limit_mb, a report that fails the
# test); otherwise the address space is capped at 8 N MiB with prlimit
# (threads reserve address space they never touch), plus the 4 GiB the
# cache index maps (cache/index.c MAP_SIZE: a file's pages, not memory).
_T_MEMCAP_MAP=$((4 << 30))
_t_memcap()
{
	[ -n "${BFS_MEMCAP_MB:-}" ] || return 0
	if ldd "$BFS_BIN" 2>/dev/null | grep -q libasan; then
		_t_env=(env "ASAN_OPTIONS=$ASAN_OPTIONS:hard_rss_limit_mb=$BFS_MEMCAP_MB")
	else
		_t_env=(prlimit "--as=$((BFS_MEMCAP_MB * 8 * 1048576 + _T_MEMCAP_MAP))")
	fi
}

# bfs_memcap_check PID: the daemon PID runs under the cap of BFS_MEMCAP_MB
bfs_memcap_check()
{
	if ldd "$BFS_BIN" 2>/dev/null | grep -q libasan; then
		tr '\0' '\n' <"/proc/$1/environ" |
			grep -q "^ASAN_OPTIONS=.*hard_rss_limit_mb=$BFS_MEMCAP_MB"
	else
		awk -v want=$((BFS_MEMCAP_MB * 8 * 1048576 + _T_MEMCAP_MAP)) \
			'/^Max address space/ { ok = $5 == want } END { exit !ok }' \
			"/proc/$1/limits"
	fi
}

# bfs_rss_ok DESC: a case, passed when the daemon's peak RSS (VmHWM) is
# under 128 MiB (issue 15's bound). Under AddressSanitizer the bound is
# 192 MiB: its shadow memory, redzones and quarantine are counted in the
# daemon's RSS (hostile_soak, the same run: 53 MiB without it, 133-139
# MiB with it).
bfs_rss_ok()
{
	local kb mb=128
	ldd "$BFS_BIN" 2>/dev/null | grep -q libasan && mb=192
	kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BFS_PID/status")
	if [ -n "$kb" ] && [ "$kb" -lt $((mb * 1024)) ]; then
		_t_result 0 "$1 (peak RSS $((kb / 1024)) MiB < $mb MiB)"
	else
		_t_result 1 "$1 (peak RSS ${kb:-?} kB, ceiling $mb MiB)"
	fi
}

# bfs_mount [ARGS...]: mounts with -f in the background, log in
# $W/daemon.N.log ($BFS_LOG), and waits until the mount is live. ARGS go
# before the mount point: a bucket name, -o options. Sets BFS_MNT
# (default $W/mnt, a script may set it first), BFS_B (the directory of
# the bucket under test in the mount) and BFS_PID. Returns non-zero
# (after printing the log) if the mount did not come up in 20 s.
bfs_mount()
{
	bfs_store_setup || return 1
	_t_mount_args
	_t_nlog=$((_t_nlog + 1))
	BFS_LOG=$W/daemon.$_t_nlog.log
	mkdir -p "$BFS_MNT"
	_t_env=()
	_t_memcap
	"${_t_env[@]}" "$BFS_BIN" "${_t_args[@]}" -f "$@" "$BFS_MNT" >"$BFS_LOG" 2>&1 &
	BFS_PID=$!
	_t_pid_of[$BFS_MNT]=$BFS_PID
	_t_log_of[$BFS_MNT]=$BFS_LOG
	_t_mounts+=("$BFS_MNT")
	local tries=200
	while ! is_mounted "$BFS_MNT"; do
		if ! kill -0 "$BFS_PID" 2>/dev/null || [ "$tries" -le 0 ]; then
			t_diag "bucketfs did not mount ${BFS_MNT}: log:"
			t_diag_file "$BFS_LOG"
			return 1
		fi
		sleep 0.1
		tries=$((tries - 1))
	done
	_t_set_b "$@"
}

# as_nobody CMD...: CMD as the unprivileged user nobody (uid and gid
# 65534, no supplementary groups)
as_nobody()
{
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# bfs_open_to_others: the test's own directories above $BFS_MNT are
# 0700; lets other users through them, so that only the mount decides
# what they may do
bfs_open_to_others()
{
	local d
	d=$(dirname "${BFS_MNT:-$W/mnt}")
	while [ "$d" != / ] && [ -O "$d" ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
}

# bfs_mount_shared [ARGS...]: bfs_mount with -o allow_other,
# default_permissions (the mount as several users share it: the kernel
# checks the mode bits) and the way to it open to other users
bfs_mount_shared()
{
	bfs_mount -o allow_other,default_permissions "$@" || return 1
	bfs_open_to_others
}

# bfs_mount_daemon [ARGS...]: mounts without -f (the daemon forks and
# the command returns once the mount is live). Its log goes to
# $BFS_LOG.file (log_file=); the command's own output is in $BFS_LOG.
bfs_mount_daemon()
{
	bfs_store_setup || return 1
	_t_mount_args
	_t_nlog=$((_t_nlog + 1))
	BFS_LOG=$W/daemon.$_t_nlog.log
	mkdir -p "$BFS_MNT"
	_t_mounts+=("$BFS_MNT")
	_t_env=()
	_t_memcap
	if ! "${_t_env[@]}" "$BFS_BIN" "${_t_args[@]}" -o "log_file=$BFS_LOG.file" "$@" \
		"$BFS_MNT" >"$BFS_LOG" 2>&1; then
		t_diag "bucketfs mount (daemon) failed:"
		t_diag_file "$BFS_LOG"
		return 1
	fi
	if ! is_mounted "$BFS_MNT"; then
		t_diag "bucketfs returned 0 but $BFS_MNT is not mounted"
		return 1
	fi
	BFS_PID=$(_t_daemon_pid "$BFS_MNT")
	_t_pid_of[$BFS_MNT]=$BFS_PID
	_t_log_of[$BFS_MNT]=$BFS_LOG
	_t_set_b "$@"
}

# The bucketfs process serving MNT (for waiting on it after unmount).
_t_daemon_pid()
{
	local p mp
	mp=$(readlink -f "$1")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$(readlink -f "$BFS_BIN")" ] ||
			continue
		tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -qxF -e "$1" -e "$mp" &&
			echo "${p#/proc/}" && return 0
	done
	return 0
}

# BFS_B: the mount itself when a bucket NAME was given, else the bucket
# under test inside the lake. A NAME is a word that is not an option nor
# the value of -o / --config.
_t_set_b()
{
	local a prev= name=
	for a in "$@"; do
		if [ "$prev" != -o ] && [ "$prev" != --config ]; then
			case $a in -*) ;; *) name=$a ;; esac
		fi
		prev=$a
	done
	if [ -n "$name" ]; then
		BFS_B=$BFS_MNT
	else
		BFS_B=$BFS_MNT/buckets/$BFS_BUCKET
	fi
}

_t_try_umount() { fusermount3 -u "$1" 2>"$W/.umount"; }

# bfs_umount [MNT]: unmounts (default $BFS_MNT) and waits for the daemon
# to exit. Returns non-zero if either went wrong (after printing why).
# The logs are checked by bfs_log_check and, at the end, t_plan_done.
bfs_umount()
{
	local mnt=${1:-$BFS_MNT} rc=0 i pid log
	if is_mounted "$mnt"; then
		# busy a moment longer (a process that just ended): retried
		# for up to 10 s
		wait_for 10 _t_try_umount "$mnt" || {
			t_diag "fusermount3 -u $mnt failed:"
			t_diag_file "$W/.umount"
			fusermount3 -u -z "$mnt" 2>/dev/null
			rc=1
		}
	fi
	for i in "${!_t_mounts[@]}"; do
		[ "${_t_mounts[$i]}" = "$mnt" ] && unset "_t_mounts[$i]"
	done
	pid=${_t_pid_of[$mnt]:-}
	log=${_t_log_of[$mnt]:-}
	if [ -n "$pid" ]; then
		_t_wait_exit "$pid" "$log" || rc=1
	fi
	unset "_t_pid_of[$mnt]" "_t_log_of[$mnt]"
	return "$rc"
}

# Waits up to 30 s for a daemon after its unmount; a daemon that does not
# exit is killed and the test fails.
_t_wait_exit()
{
	local pid=$1 log=$2 tries=300 st
	while kill -0 "$pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
		# a zombie child of this shell counts as gone
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		sleep 0.1
		tries=$((tries - 1))
	done
	if kill -0 "$pid" 2>/dev/null &&
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
		t_diag "bucketfs (pid $pid) still runs 30 s after unmount; killed"
		# where it waits: every thread's stack, and the log's last lines
		timeout 60 gdb -batch -p "$pid" -ex "thread apply all bt" \
			>"$W/.stacks" 2>&1
		# one line per thread: its functions, innermost first
		awk '/^Thread/ { if (t) print t; t = $1 " " $2 ":"; next }
			/^#[0-9]/ { t = t " " ($3 == "in" ? $4 : $2) }
			END { if (t) print t }' "$W/.stacks" >"$W/.stacks2"
		t_diag_file "$W/.stacks2" 100
		# a daemon mount logs to log_file= (LOG.file)
		for f in "$log" "$log.file"; do
			[ -n "$log" ] && [ -s "$f" ] && t_diag_file "$f"
		done
		kill -9 "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid" 2>/dev/null
	st=$?
	# 127: not our child (a daemon), status unknown
	if [ "$st" -ne 0 ] && [ "$st" -ne 127 ]; then
		t_diag "bucketfs (pid $pid) exited with status $st; log:"
		t_diag_file "$log"
		return 1
	fi
	return 0
}

# bfs_log_expect ERE: lines matching ERE in daemon logs are expected (a
# test that provokes an error says which line it provokes)
bfs_log_expect()
{
	_t_expect_log+=("$1")
}

# Words that make a daemon log suspicious (libfuse test/util.py). The
# daemon's own levels are [err], [warning] ...; sanitizers and libc
# speak for themselves.
_T_SUSPICIOUS='\[(emerg|alert|crit|err|error|warning)\]|[Ss]anitizer|runtime error|\bBUG\b|[Aa]ssertion|[Aa]bort|[Ss]egmentation|double free|corrupted|[Ll]eak|[Ff]atal|[Ee]xception|[Tt]raceback|[Cc]rash'

_bfs_log_ok()
{
	local log=$1 e
	[ -f "$log" ] || return 0
	grep -E "$_T_SUSPICIOUS" "$log" >"$W/.susp" 2>/dev/null || return 0
	for e in "${_t_expect_log[@]}"; do
		grep -vE -- "$e" "$W/.susp" >"$W/.susp2"
		mv "$W/.susp2" "$W/.susp"
	done
	[ -s "$W/.susp" ] || return 0
	t_diag "suspicious lines in the daemon log $(basename "$log"):"
	t_diag_file "$W/.susp" 20
	return 1
}

# bfs_log_check NAME: a TAP case that passes when the logs of every
# mount so far have no suspicious line. t_plan_done runs it at the end; a
# script may run it earlier (each log is judged once).
bfs_log_check()
{
	local log rc=0 n=0
	: >"$W/.logdiag"
	for log in "$W"/daemon.*.log; do
		[ -f "$log" ] || continue
		n=$((n + 1))
		_bfs_log_ok "$log" >>"$W/.logdiag" || rc=1
		mv "$log" "$log.checked"
		# a daemon's log_file= (bfs_mount_daemon)
		[ -f "$log.file" ] || continue
		_bfs_log_ok "$log.file" >>"$W/.logdiag" || rc=1
		mv "$log.file" "$log.file.checked"
	done
	[ "$n" -gt 0 ] || return 0
	_t_result "$rc" "${1:-daemon logs have no suspicious lines}"
	cat "$W/.logdiag"
}

# Every sanitizer report written so far becomes a failure (once).
_t_check_sanitizers()
{
	local f rc=0
	for f in "$W"/san/*; do
		[ -f "$f" ] || continue
		_t_result 1 "sanitizer report $(basename "$f")"
		t_diag_file "$f" 40
		mv "$f" "$f.seen"
		rc=1
	done
	return "$rc"
}

_t_cleanup_mounts()
{
	local m
	for m in "${_t_mounts[@]}"; do
		[ -n "$m" ] || continue
		if ! bfs_umount "$m"; then
			_t_result 1 "unmount of $m at the end was clean"
		fi
	done
	_t_mounts=()
}

_t_on_exit()
{
	local st=$? s
	# unmount before stopping servers and removing the work dir, even
	# when the script failed or was killed
	for s in "${_t_mounts[@]}"; do
		[ -n "$s" ] && is_mounted "$s" &&
			{ fusermount3 -u "$s" 2>/dev/null || fusermount3 -u -z "$s" 2>/dev/null; }
	done
	for s in "${_t_pid_of[@]}"; do
		[ -n "$s" ] && kill "$s" 2>/dev/null
	done
	if [ "$_t_done" -eq 0 ]; then
		_t_result 1 "$T_NAME ran to its end (exit status $st)"
		echo "1..$_t_n"
		st=1
	fi
	for s in "${_t_stop[@]}"; do
		eval "$s" >/dev/null 2>&1
	done
	if [ "${BFS_KEEP:-}" = 1 ]; then
		echo "# work dir kept: $W"
	else
		rm -rf "$W"
	fi
	exit "$st"
}
trap _t_on_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

if [ ! -x "$BFS_BIN" ]; then
	t_abort "bucketfs is built ($BFS_BIN missing: run make first)"
fi
