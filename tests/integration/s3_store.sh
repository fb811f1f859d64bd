#!/usr/bin/env bash
# s3_store.sh - the S3 store driver against two real S3 servers on loopback:
# Ceph RGW (strict: signatures, conditional writes, long keys) and s3rver
# (lax; once more over https with a self-signed certificate). Starts them
# on free ports, creates a bucket on each with the driver itself, writes an
# object with metadata through the aws CLI (another client), runs
# tests/unit/test_s3_store against each, and stops them by PID.
# Prints TAP; exits non-zero if any case failed.
#
# Environment: BFS_BUILDDIR (where tests/unit/test_s3_store is; default .),
# BFS_SRCDIR (source tree), BFS_SHARED (../shared of the source tree).
# BFS_RGW_URL, BFS_RGW_ACCESS, BFS_RGW_SECRET: use a running RGW instead of
# starting one (for quick runs by hand).
set -u

here=$(cd "$(dirname "$0")" && pwd)
SRC=${BFS_SRCDIR:-$(cd "$here/../.." && pwd)}
BUILD=${BFS_BUILDDIR:-$PWD}
SHARED=${BFS_SHARED:-$SRC/../shared}
BIN=$BUILD/tests/unit/test_s3_store
BUCKET=bfs-test

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }

W=$(mktemp -d "${TMPDIR:-/tmp}/bfs-s3-store.XXXXXX")
s3rver_pid=
tls_pid=
rgw_dir=
cleanup() {
	[ -n "$s3rver_pid" ] && kill "$s3rver_pid" 2>/dev/null && wait "$s3rver_pid" 2>/dev/null
	[ -n "$tls_pid" ] && kill "$tls_pid" 2>/dev/null && wait "$tls_pid" 2>/dev/null
	[ -n "$rgw_dir" ] && "$SHARED/tools/rgw-stop" "$rgw_dir" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# run_tap LABEL SECRET CMD...: run a TAP program, renumber its cases into
# this script's stream, and check its log for secrets and sanitizer reports
run_tap() {
	local label=$1 secret=$2 out err st
	shift 2
	out=$W/$label.tap
	err=$W/$label.err
	timeout 900 "$@" >"$out" 2>"$err"
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
	if grep -qF -e "$secret" -e "wrong-secret-0123456789" "$out" "$err"; then
		notok "[$label] a secret key appears in the output"
	else
		ok "[$label] no secret key in $(wc -l <"$err") log lines"
	fi
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$err"; then
		notok "[$label] sanitizer report"
		grep -E -A5 'Sanitizer|runtime error' "$err" | head -40 | sed 's/^/#   /'
	fi
}

# foreign URL ACCESS SECRET: an object with metadata written by the aws CLI
foreign() {
	echo "written by another client" >"$W/foreign.txt"
	env -u AWS_CA_BUNDLE -u AWS_PROFILE AWS_CONFIG_FILE=/dev/null \
		AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID="$2" \
		AWS_SECRET_ACCESS_KEY="$3" AWS_DEFAULT_REGION=us-east-1 \
		aws --endpoint-url "$1" s3api put-object --bucket "$BUCKET" \
		--key "foreign/by aws cli.txt" --body "$W/foreign.txt" \
		--metadata mode=33188,uid=1000,Foo=Bar >"$W/aws.out" 2>&1
}

if [ ! -x "$BIN" ]; then
	notok "test_s3_store is built ($BIN missing: run make check first)"
	finish
fi

# RGW takes ~15 s: start it first, s3rver meanwhile
if [ -n "${BFS_RGW_URL:-}" ]; then
	echo "RGW_URL=$BFS_RGW_URL RGW_ACCESS=$BFS_RGW_ACCESS RGW_SECRET=$BFS_RGW_SECRET" >"$W/rgw.out"
	rgw_start_pid=
else
	rgw_dir=$W/rgw
	"$SHARED/tools/rgw-start" "$rgw_dir" >"$W/rgw.out" 2>&1 &
	rgw_start_pid=$!
fi

s3rver_js=$SRC/tests/tools/node_modules/s3rver/bin/s3rver.js
port=$(free_port)
if [ ! -f "$s3rver_js" ]; then
	notok "s3rver is installed (run: cd tests/tools && npm ci)"
else
	# s3rver 3.7.1 makes continuation tokens with DES: OpenSSL 3 keeps
	# that in its legacy provider
	node --openssl-legacy-provider "$s3rver_js" -d "$W/s3rver" \
		-a 127.0.0.1 -p "$port" --silent \
		--configure-bucket "$BUCKET" >"$W/s3rver.log" 2>&1 &
	s3rver_pid=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.1
	done
	if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
		ok "s3rver listens on 127.0.0.1:$port"
		S3RVER_URL=http://127.0.0.1:$port
	else
		notok "s3rver listens on 127.0.0.1:$port"
		sed 's/^/#   /' "$W/s3rver.log" | tail -20
	fi
fi

if [ -n "${S3RVER_URL:-}" ]; then
	export BFS_S3_URL=$S3RVER_URL BFS_S3_BUCKET=$BUCKET
	export BFS_S3_ACCESS=S3RVER BFS_S3_SECRET=S3RVER
	run_tap s3rver-mkbucket S3RVER "$BIN" mkbucket
	if foreign "$S3RVER_URL" S3RVER S3RVER; then
		ok "[s3rver] aws CLI wrote an object with metadata"
	else
		notok "[s3rver] aws CLI wrote an object with metadata"
		sed 's/^/#   /' "$W/aws.out" | tail -5
	fi
	BFS_S3_FOREIGN_KEY="foreign/by aws cli.txt" \
		BFS_S3_FOREIGN_META="mode=33188,uid=1000,foo=Bar" \
		BFS_S3_FLAGS=no-conditional,no-long-keys,lax-auth,lax-multipart,no-part-copy,no-conformance \
		BFS_S3_DEBUG=http run_tap s3rver S3RVER "$BIN" store
fi

# https: s3rver with a self-signed certificate made here
if [ -f "$s3rver_js" ] && openssl req -x509 -newkey rsa:2048 -nodes \
	-keyout "$W/tls.key" -out "$W/tls.crt" -days 1 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" >"$W/openssl.log" 2>&1; then
	tport=$(free_port)
	node --openssl-legacy-provider "$s3rver_js" -d "$W/s3rver-tls" \
		-a 127.0.0.1 -p "$tport" --silent --key "$W/tls.key" \
		--cert "$W/tls.crt" --configure-bucket "$BUCKET" \
		>"$W/s3rver-tls.log" 2>&1 &
	tls_pid=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null --cacert "$W/tls.crt" \
			"https://127.0.0.1:$tport/" && break
		sleep 0.1
	done
	BFS_S3_URL=https://127.0.0.1:$tport BFS_S3_BUCKET=$BUCKET \
		BFS_S3_ACCESS=S3RVER BFS_S3_SECRET=S3RVER \
		BFS_S3_CA_FILE=$W/tls.crt run_tap s3rver-tls S3RVER "$BIN" tls
	kill "$tls_pid" 2>/dev/null && wait "$tls_pid" 2>/dev/null
	tls_pid=
else
	notok "s3rver over https (openssl could not make a certificate)"
	sed 's/^/#   /' "$W/openssl.log" | tail -5
fi

if [ -n "$rgw_start_pid" ] && ! wait "$rgw_start_pid"; then
	notok "Ceph RGW started"
	sed 's/^/#   /' "$W/rgw.out" | tail -10
	finish
fi
RGW_URL= RGW_ACCESS= RGW_SECRET=
for kv in $(tail -1 "$W/rgw.out"); do
	case $kv in
	RGW_URL=*) RGW_URL=${kv#*=} ;;
	RGW_ACCESS=*) RGW_ACCESS=${kv#*=} ;;
	RGW_SECRET=*) RGW_SECRET=${kv#*=} ;;
	esac
done
if [ -z "$RGW_URL" ] || [ -z "$RGW_SECRET" ]; then
	notok "Ceph RGW started (no RGW_URL in its output)"
	finish
fi
ok "Ceph RGW listens at $RGW_URL"

export BFS_S3_URL=$RGW_URL BFS_S3_BUCKET=$BUCKET
export BFS_S3_ACCESS=$RGW_ACCESS BFS_S3_SECRET=$RGW_SECRET
run_tap rgw-mkbucket "$RGW_SECRET" "$BIN" mkbucket
if foreign "$RGW_URL" "$RGW_ACCESS" "$RGW_SECRET"; then
	ok "[rgw] aws CLI wrote an object with metadata"
else
	notok "[rgw] aws CLI wrote an object with metadata"
	sed 's/^/#   /' "$W/aws.out" | tail -5
fi
BFS_S3_FOREIGN_KEY="foreign/by aws cli.txt" \
	BFS_S3_FOREIGN_META="mode=33188,uid=1000,foo=Bar" \
	BFS_S3_FLAGS= BFS_S3_DEBUG=http run_tap rgw "$RGW_SECRET" "$BIN" store
finish
