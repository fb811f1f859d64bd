#!/usr/bin/env bash
# s3_store.sh - the S3 store driver against real S3 servers on loopback:
# s3rver (lax; once more over https with a self-signed certificate made
# here) and Ceph RGW (strict: signatures, conditional writes, long keys).
# Starts them on free ports (tests/lib.sh), creates a bucket on each with
# the driver itself, writes an object with metadata through the aws CLI
# (another client), runs tests/unit/test_s3_store against each with
# -o debug=http logging, and stops them by PID. A secret key in any output
# or a sanitizer report fails the script.
#
# Environment: as tests/lib.sh; BFS_BUILD (or BFS_BUILDDIR) is where
# tests/unit/test_s3_store is built; BFS_RGW_URL/ACCESS/SECRET reuse a
# running RGW.
. "$(dirname "$0")/../lib.sh"

BIN=${BFS_BUILDDIR:-$BFS_BUILD}/tests/unit/test_s3_store
BUCKET=bfs-test
META="mode=33188,uid=1000,foo=Bar"
FOREIGN="foreign/by aws cli.txt"

[ -x "$BIN" ] || t_abort "test_s3_store is built ($BIN missing: make check)"

# run_tap LABEL SECRET CMD...: run a TAP program, its cases renumbered
# into this script's stream under [LABEL]; its output must not hold SECRET
run_tap()
{
	local label=$1 secret=$2 out err st line
	shift 2
	out=$W/$label.tap
	err=$W/$label.err
	timeout 900 "$@" >"$out" 2>"$err"
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
	if grep -qF -e "$secret" -e "wrong-secret-0123456789" "$out" "$err"; then
		_t_result 1 "[$label] no secret key in the output"
		# say where, never what: the line is shown with the key masked
		grep -nF -e "$secret" -e "wrong-secret" "$out" "$err" |
			head -5 | while IFS= read -r line; do
			line=${line//"$secret"/<secret>}
			printf '#   %s\n' "${line//wrong-secret-0123456789/<secret>}"
		done
	else
		_t_result 0 "[$label] no secret key in $(wc -l <"$err") log lines"
	fi
}

# foreign URL ACCESS SECRET: an object with metadata written by the aws CLI
# (keys through the environment, never argv)
foreign()
{
	echo "written by another client" >"$W/foreign.txt"
	env -u AWS_CA_BUNDLE -u AWS_PROFILE AWS_CONFIG_FILE=/dev/null \
		AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID="$2" \
		AWS_SECRET_ACCESS_KEY="$3" AWS_DEFAULT_REGION=us-east-1 \
		AWS_EC2_METADATA_DISABLED=true \
		aws --endpoint-url "$1" s3api put-object --bucket "$BUCKET" \
		--key "$FOREIGN" --body "$W/foreign.txt" \
		--metadata mode=33188,uid=1000,Foo=Bar
}

# ---- s3rver
if store_start_s3rver "$BUCKET"; then
	_t_result 0 "s3rver listens at $STORE_URL"
	export BFS_S3_URL=$STORE_URL BFS_S3_BUCKET=$BUCKET
	export BFS_S3_ACCESS=$STORE_ACCESS BFS_S3_SECRET=$STORE_SECRET
	run_tap s3rver-mkbucket "$STORE_SECRET" "$BIN" mkbucket
	t_ok "[s3rver] aws CLI writes an object with metadata" \
		foreign "$STORE_URL" "$STORE_ACCESS" "$STORE_SECRET"
	# what s3rver cannot do is left out, never counted: see the header
	# of tests/unit/test_s3_store.c
	BFS_S3_FOREIGN_KEY=$FOREIGN BFS_S3_FOREIGN_META=$META \
		BFS_S3_FLAGS=no-conditional,no-long-keys,lax-auth,lax-multipart,no-part-copy,no-conformance \
		BFS_S3_DEBUG=http run_tap s3rver "$STORE_SECRET" "$BIN" store
else
	_t_result 1 "s3rver starts"
fi

# ---- s3rver over https
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/tls.key" \
	-out "$W/tls.crt" -days 1 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" >"$W/openssl.log" 2>&1 &&
	[ -f "$(s3rver_js)" ]; then
	tport=$(free_port)
	node --openssl-legacy-provider "$(s3rver_js)" \
		--directory "$W/s3rver-tls" --address 127.0.0.1 \
		--port "$tport" --silent --key "$W/tls.key" \
		--cert "$W/tls.crt" --configure-bucket "$BUCKET" \
		>"$W/s3rver-tls.log" 2>&1 &
	tls_pid=$!
	_t_stop+=("kill $tls_pid 2>/dev/null; wait $tls_pid 2>/dev/null")
	if wait_for 30 curl -s -o /dev/null --cacert "$W/tls.crt" \
		"https://127.0.0.1:$tport/"; then
		BFS_S3_URL=https://127.0.0.1:$tport BFS_S3_BUCKET=$BUCKET \
			BFS_S3_ACCESS=S3RVER BFS_S3_SECRET=S3RVER \
			BFS_S3_CA_FILE=$W/tls.crt run_tap s3rver-tls S3RVER \
			"$BIN" tls
	else
		_t_result 1 "s3rver over https answers on 127.0.0.1:$tport"
		t_diag_file "$W/s3rver-tls.log"
	fi
else
	_t_result 1 "s3rver over https (a certificate and s3rver)"
	t_diag_file "$W/openssl.log"
fi

# ---- Ceph RGW
store_start_rgw || t_abort "Ceph RGW starts"
_t_result 0 "Ceph RGW listens at $STORE_URL"
export BFS_S3_URL=$STORE_URL BFS_S3_BUCKET=$BUCKET
export BFS_S3_ACCESS=$STORE_ACCESS BFS_S3_SECRET=$STORE_SECRET
run_tap rgw-mkbucket "$STORE_SECRET" "$BIN" mkbucket
t_ok "[rgw] aws CLI writes an object with metadata" \
	foreign "$STORE_URL" "$STORE_ACCESS" "$STORE_SECRET"
BFS_S3_FOREIGN_KEY=$FOREIGN BFS_S3_FOREIGN_META=$META BFS_S3_FLAGS= \
	BFS_S3_DEBUG=http run_tap rgw "$STORE_SECRET" "$BIN" store
# the same battery over the caches a bucket stacks on the driver
BFS_S3_FLAGS= run_tap rgw-stack "$STORE_SECRET" "$BIN" stack

t_plan_done
