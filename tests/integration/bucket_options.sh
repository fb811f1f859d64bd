#!/usr/bin/env bash
# bucket_options.sh - the options of a bucket as S3 documents them, on the
# wire and on RGW: sse = kms (RGW's testing key store) and sse = c,
# storage_class and requester_pays, each header seen and signed in the
# fault proxy's header log (tests/tools/faultproxy.py --headers) for the
# PUT, GET, HEAD, copy and multipart requests of a mount; ca_bundle, an
# HTTPS front with a CA made here by openssl, refused without the bundle
# and accepted with it; proxy, a forward proxy (tests/tools/fwdproxy.py)
# that records it was used, CONNECT for https. And `bucket connect
# --credentials` and `bucket update` changing endpoint, proxy and
# credentials in place, each tested before it is saved, under a catalog.
. "$(dirname "$0")/../lib.sh"

BFS_TEST_STORE=rgw
bfs_store_setup || t_abort "RGW and a bucket"
B=$(awk -F' = ' '/^bucket = / { print $2 }' "$BFS_CONF")
bfs() { "$BFS_BIN" "$@" --config "$BFS_CONF"; }
# the keys on stdin, never in argv
keys() { printf '%s\n%s\n' "$STORE_ACCESS" "$STORE_SECRET"; }
RGW_PORT=${STORE_URL##*:}

# start_tool NAME TOOL ARGS...: tests/tools/TOOL on a free port (its
# "PORT=" line), stopped on exit; sets port
start_tool()
{
	local name=$1 tool=$2 pid
	shift 2
	python3 "$BFS_TOOLS/$tool" "$@" >"$W/$name.out" 2>"$W/$name.err" &
	pid=$!
	_t_stop+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
	wait_for 30 grep -q '^PORT=' "$W/$name.out" || return 1
	port=$(sed -n 's/^PORT=//p' "$W/$name.out")
}

# logged METHOD PATH-REGEX: the header log lines of those requests
logged()
{
	awk -F'\t' -v m="$1" -v p="$2" \
		'{ split($1, a, " ") } a[1] == m && a[2] ~ p' "$W/headers.log"
}
# every LINES... TEXT: each line of stdin holds TEXT (and there is one)
every()
{
	awk -v t="$1" 'index($0, t) == 0 { bad = 1 } { n++ }
		END { exit !(n > 0 && !bad) }'
}
none()
{
	! grep -qF -- "$1"
}
# obj_is KEY TEXT: the object holds TEXT (uploads end after close returns)
obj_is()
{
	[ "$(s3_curl GET "$B/$1" 2>/dev/null)" = "$2" ]
}

# the chain of the mounts reads this file (their environment is scrubbed
# of keys once they have started)
export AWS_SHARED_CREDENTIALS_FILE=$W/aws-credentials AWS_CONFIG_FILE=/dev/null
printf '[bfs]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$STORE_ACCESS" "$STORE_SECRET" >"$AWS_SHARED_CREDENTIALS_FILE"
chmod 600 "$AWS_SHARED_CREDENTIALS_FILE"

echo "0 none 0 *" >"$W/faults.ctl"
start_tool fp faultproxy.py --upstream "$STORE_URL" \
	--control "$W/faults.ctl" --headers "$W/headers.log" ||
	t_abort "faultproxy.py did not start"
FP=$port

# ---- sse = kms, storage_class, requester_pays
keys | bfs bucket connect wire --provider custom \
	--endpoint "http://127.0.0.1:$FP" --bucket "$B" --prefix kms/ \
	--sse kms --sse-kms-key-id testkey-1 --storage-class STANDARD \
	--requester-pays --keys-from-stdin >"$W/wire.out" 2>&1
t_is "connect --sse kms --storage-class --requester-pays: tested, saved" \
	"$?:$(grep -c 'connection test passed' "$W/wire.out")" 0:1 ||
	t_diag_file "$W/wire.out"

bfs_mount -o multipart_threshold=5M,part_size=5M || t_abort "mount the lake"
M=$BFS_MNT
: >"$W/headers.log"
echo kms-data >"$M/buckets/wire/a.txt"
t_is "kms: a file reads back" "$(cat "$M/buckets/wire/a.txt")" kms-data
# RGW (Ceph 16) answers CopyObject of an encrypted object with 501
# NotImplemented: a rename there fails with EOPNOTSUPP (AWS S3 copies
# them); the COPY request is still on the wire for the checks below
bfs_log_expect "COPY '(kms|ssec)/.*NotImplemented|rename '(kms|ssec)/.*Operation not supported|bucket '(px|tls)': its provider, endpoint"
t_fails_with "kms: RGW does not copy encrypted objects: a rename says so" \
	"Operation not supported" mv "$M/buckets/wire/a.txt" "$M/buckets/wire/b.txt"
head -c $((6 << 20)) /dev/urandom >"$W/big"
cp "$W/big" "$M/buckets/wire/big.bin"
t_ok "kms: a multipart file reads back" cmp "$W/big" "$M/buckets/wire/big.bin"
# a GET that no cache can answer: the probe object of the test
bfs bucket test wire --write >"$W/wire-test.out" 2>&1 ||
	t_diag_file "$W/wire-test.out"

t_ok "kms: PUT carries x-amz-server-side-encryption: aws:kms" \
	every 'x-amz-server-side-encryption=aws:kms' \
	< <(logged PUT '^/[^?]*/kms/a\.txt$')
t_ok "kms: and the key id" \
	every 'x-amz-server-side-encryption-aws-kms-key-id=testkey-1' \
	< <(logged PUT '^/[^?]*/kms/a\.txt$')
t_ok "kms: and x-amz-storage-class" \
	every 'x-amz-storage-class=STANDARD' < <(logged PUT '/kms/a\.txt$')
t_ok "kms: all three are signed" \
	every 'x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id;x-amz-storage-class' \
	< <(logged PUT '/kms/a\.txt$')
t_ok "kms: the copy of a rename carries them too" \
	every 'x-amz-server-side-encryption=aws:kms' \
	< <(grep -F 'x-amz-copy-source=' "$W/headers.log")
t_ok "kms: as does CreateMultipartUpload" \
	every 'x-amz-storage-class=STANDARD' \
	< <(logged POST '/kms/big\.bin\?uploads')
t_ok "kms: UploadPart does not (S3 refuses them there)" \
	none 'x-amz-storage-class' < <(logged PUT 'partNumber=')
t_ok "kms: GET and HEAD never send x-amz-server-side-encryption" \
	none 'x-amz-server-side-encryption=' \
	< <(logged GET /kms/; logged HEAD /kms/)
t_ok "requester_pays: every request says x-amz-request-payer" \
	every 'x-amz-request-payer=requester' <"$W/headers.log"
t_ok "requester_pays: signed" every ';x-amz-request-payer' \
	< <(logged GET /kms/)
s3_curl HEAD "$B/kms/a.txt" -I >"$W/head.out" 2>&1
t_ok "kms: RGW stored the object encrypted with the KMS key" \
	grep -qi '^x-amz-server-side-encryption: aws:kms' "$W/head.out"

# ---- sse = c, connected while the lake is mounted
openssl rand 32 >"$W/ckey"
CK=$(base64 -w0 <"$W/ckey")
CKMD5=$(openssl md5 -binary <"$W/ckey" | base64 -w0)
keys | bfs bucket connect ssec --provider custom \
	--endpoint "http://127.0.0.1:$FP" --bucket "$B" --prefix ssec/ \
	--sse c --sse-customer-key-file "$W/ckey" --keys-from-stdin \
	>"$W/ssec.out" 2>&1
t_is "connect --sse c: tested with the key, saved" \
	"$?:$(grep -c 'connection test passed' "$W/ssec.out")" 0:1 ||
	t_diag_file "$W/ssec.out"
t_ok "sse c: the key is stored encrypted" \
	grep -q '^sse_customer_key = enc:v1:' "$BFS_CONF"
t_fails "sse c: never in clear in the file" grep -qF "$CK" "$BFS_CONF"
t_ok "sse c: the bucket appears in the running mount" \
	wait_for 30 test -d "$M/buckets/ssec"
: >"$W/headers.log"
bfs bucket test ssec --write >"$W/ssec-test.out" 2>&1 ||
	t_diag_file "$W/ssec-test.out"
echo secret-data >"$M/buckets/ssec/c.txt"
t_is "sse c: a file reads back" "$(cat "$M/buckets/ssec/c.txt")" secret-data
t_fails_with "sse c: RGW does not copy it either" "Operation not supported" \
	mv "$M/buckets/ssec/c.txt" "$M/buckets/ssec/d.txt"
for m in PUT GET HEAD; do
	t_ok "sse c: $m sends the customer key and its MD5" \
		every "x-amz-server-side-encryption-customer-key=$CK	x-amz-server-side-encryption-customer-key-md5=$CKMD5" \
		< <(logged "$m" '/ssec/[^?]*$')
done
t_ok "sse c: with the algorithm, all signed" \
	every 'x-amz-server-side-encryption-customer-algorithm;x-amz-server-side-encryption-customer-key;x-amz-server-side-encryption-customer-key-md5' \
	< <(logged PUT '/ssec/c\.txt$')
t_ok "sse c: a copy names the source's key as well" \
	every "x-amz-copy-source-server-side-encryption-customer-key=$CK" \
	< <(grep -F 'x-amz-copy-source=' "$W/headers.log")
t_fails "sse c: RGW refuses to read the object without the key" \
	s3_curl GET "$B/ssec/c.txt" -o /dev/null

# ---- ca_bundle: an HTTPS front with a CA made here
(
	cd "$W" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -keyout ca.key -out ca.pem -days 2 \
			-subj /CN=bucketfs-test-ca &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
		printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key \
			-CAcreateserial -out srv.pem -days 2 -extfile srv.ext
) >"$W/openssl.out" 2>&1 || t_abort "openssl: a test CA"
echo "0 none 0 *" >"$W/faults-tls.ctl"
start_tool tls faultproxy.py --upstream "$STORE_URL" \
	--control "$W/faults-tls.ctl" --tls-cert "$W/srv.pem" \
	--tls-key "$W/srv.key" || t_abort "the HTTPS front did not start"
TP=$port
keys | bfs bucket connect tls --provider custom \
	--endpoint "https://127.0.0.1:$TP" --bucket "$B" --prefix tls/ \
	--keys-from-stdin >"$W/tls1.out" 2>&1
t_is "ca_bundle: without it the test CA is refused, nothing saved" \
	"$?:$(grep -c '^\[bucket tls\]' "$BFS_CONF")" 1:0
t_ok "ca_bundle: the refusal names the certificate" \
	grep -qi certificate "$W/tls1.out"
keys | bfs bucket connect tls --provider custom \
	--endpoint "https://127.0.0.1:$TP" --bucket "$B" --prefix tls/ \
	--ca-bundle "$W/ca.pem" --keys-from-stdin >"$W/tls2.out" 2>&1
t_is "ca_bundle: with it the connection test passes" \
	"$?:$(grep -c 'TLS certificate verified' "$W/tls2.out")" 0:1 ||
	t_diag_file "$W/tls2.out"
t_ok "ca_bundle: the running mount reads through it" \
	wait_for 30 test -d "$M/buckets/tls"
echo over-tls >"$M/buckets/tls/t.txt"
t_ok "ca_bundle: a file written over TLS is in the bucket" \
	wait_for 30 obj_is tls/t.txt over-tls

# ---- proxy: plain http forwarded, https through CONNECT
start_tool fwd fwdproxy.py --log "$W/fwd.log" ||
	t_abort "fwdproxy.py did not start"
PP=$port
bfs bucket update tls --proxy "http://127.0.0.1:$PP" >"$W/tls3.out" 2>&1
t_is "proxy: update --proxy is tested through it and saved" \
	"$?:$(grep -c "^proxy = http://127.0.0.1:$PP" "$BFS_CONF")" 0:1 ||
	t_diag_file "$W/tls3.out"
t_ok "proxy: https went through a CONNECT tunnel" \
	grep -qx "CONNECT 127.0.0.1:$TP" "$W/fwd.log"
keys | bfs bucket connect px --provider custom --endpoint "$STORE_URL" \
	--bucket "$B" --prefix px/ --proxy "http://127.0.0.1:$PP" \
	--keys-from-stdin >"$W/px.out" 2>&1
t_is "proxy: connect --proxy passes its test" "$?" 0 ||
	t_diag_file "$W/px.out"
t_ok "proxy: plain http requests went to the proxy" \
	grep -q "^GET http://127.0.0.1:$RGW_PORT/$B?" "$W/fwd.log"

# ---- update in place, under a catalog
bfs catalog add pc --type managed --bucket px >/dev/null ||
	t_abort "catalog add pc"
t_ok "update: the catalog on the bucket appears" \
	wait_for 30 test -d "$M/catalogs/pc"
echo in-catalog >"$M/catalogs/pc/x.txt"
: >"$W/headers.log"
bfs bucket update px --endpoint "http://127.0.0.1:$FP" --proxy '' \
	>"$W/upd1.out" 2>&1
t_is "update: a new endpoint, the proxy removed: tested, saved" \
	"$?:$(grep -c "^endpoint = http://127.0.0.1:$FP" "$BFS_CONF")" 0:3 ||
	t_diag_file "$W/upd1.out"
t_ok "update: the test used the new endpoint" \
	grep -q "^GET /$B?.*prefix=px%2F" "$W/headers.log"
t_is "update: the catalog reads across it" \
	"$(cat "$M/catalogs/pc/x.txt")" in-catalog
: >"$W/fwd.log"
echo via-new-endpoint >"$M/buckets/px/viafp.txt"
t_ok "update: the running mount writes to the new endpoint, no remount" \
	wait_for 30 grep -q "^PUT /$B/px/viafp.txt" "$W/headers.log"
t_ok "update: the object is in the bucket" \
	wait_for 30 obj_is px/viafp.txt via-new-endpoint
t_fails "update: nothing of it went to the removed proxy" \
	grep -q viafp "$W/fwd.log"
echo via-catalog >"$M/catalogs/pc/z.txt"
t_ok "update: the catalog on it writes to the new endpoint too" \
	wait_for 30 grep -q "^PUT /$B/px/z.txt" "$W/headers.log"
bfs bucket update px --credentials anonymous >"$W/upd2.out" 2>&1
t_is "update --credentials anonymous: refused by its test (a private bucket)" \
	"$?:$(grep -c '^credentials' "$BFS_CONF")" 1:0
# without the keys bfs_store_setup exported, the chain reaches the profile
nokeys() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$@"; }
nokeys "$BFS_BIN" bucket update px --credentials chain --profile bfs \
	--config "$BFS_CONF" >"$W/upd3.out" 2>&1
t_is "update --credentials chain: tested with the chain, saved" \
	"$?:$(grep -c "credentials from profile 'bfs'" "$W/upd3.out")" 0:1 ||
	t_diag_file "$W/upd3.out"
t_is "update --credentials chain: the stored keys are gone" \
	"$(awk '/^\[bucket px\]/ { s = 1; next } /^\[/ { s = 0 }
		s && /^(access_key_id|secret_access_key) =/' "$BFS_CONF")" ""
echo after-chain >"$M/catalogs/pc/y.txt"
t_ok "update: the running mount writes through the catalog with the chain" \
	wait_for 30 obj_is px/y.txt after-chain
nokeys "$BFS_BIN" bucket connect ch --provider custom \
	--endpoint "$STORE_URL" --bucket "$B" --credentials chain \
	--profile bfs --config "$BFS_CONF" >"$W/ch.out" 2>&1
t_is "connect --credentials chain: no keys read, tested, saved" \
	"$?:$(grep -c "^saved bucket 'ch'.*(credentials = chain)" "$W/ch.out")" 0:1 ||
	t_diag_file "$W/ch.out"

bfs_umount
t_fails "no customer key in any log" grep -rqF "$CK" "$W"/daemon.*.log

# ---- on the wire: a session token, and anonymous requests
TOK=session-token-$$
printf '[tok]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n' \
	"$STORE_ACCESS" "$STORE_SECRET" "$TOK" >>"$AWS_SHARED_CREDENTIALS_FILE"
nokeys "$BFS_BIN" bucket connect tok --provider custom \
	--endpoint "http://127.0.0.1:$FP" --bucket "$B" --prefix tok/ \
	--credentials chain --profile tok --no-test --config "$BFS_CONF" \
	>/dev/null 2>&1 || t_abort "bucket connect tok"
bfs bucket connect anon --provider custom --endpoint "http://127.0.0.1:$FP" \
	--bucket "$B" --prefix anon/ --credentials anonymous --no-test \
	>/dev/null 2>&1 || t_abort "bucket connect anon"
: >"$W/headers.log"
# RGW knows no such token and a private bucket refuses anonymous
# requests: only what went on the wire counts here
nokeys "$BFS_BIN" bucket test tok --config "$BFS_CONF" >/dev/null 2>&1
t_ok "chain: temporary keys send their session token" \
	every "x-amz-security-token=$TOK" <"$W/headers.log"
t_ok "chain: and sign it" every ';x-amz-security-token' <"$W/headers.log"
: >"$W/headers.log"
bfs bucket test anon >/dev/null 2>&1
t_ok "anonymous: requests went out" test -s "$W/headers.log"
t_ok "anonymous: unsigned (no Authorization, nothing signed)" \
	none 'signed=' <"$W/headers.log"
t_plan_done
