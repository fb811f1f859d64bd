#!/usr/bin/env bash
# cli_bucket.sh - `bucketfs bucket connect|test|list|show|remove` and
# `bucketfs key rotate` against Ceph RGW (strict: it checks signatures):
# keys read from stdin end up encrypted and nowhere in plaintext, the
# connection test passes and names each failure (wrong secret, unknown key
# id, unknown bucket, closed port, black-holed port within the timeouts,
# untrusted certificate), a mount with the encrypted keys works and holds
# the secret in neither argv, environment nor log and is not dumpable,
# damaged or moved ciphertexts and a wrong master key fail cleanly, and a
# key rotation (also one interrupted halfway) keeps everything working.
# The secrets never reach an argv of this script nor its output: they go
# through printf (a builtin) and are compared with grep -f.
. "$(dirname "$0")/../lib.sh"

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

store_start_rgw || t_abort "start Ceph RGW"
BKT=bfs-cli-bucket-$$
s3_mkbucket "$STORE_URL" "$BKT" || t_abort "create bucket $BKT on RGW"
# the harness's copies must not reach the daemons started here
unset BFS_RGW_ACCESS BFS_RGW_SECRET
printf '%s\n' "$STORE_SECRET" >"$W/secret.pat"
printf '%s\n' "$STORE_ACCESS" >"$W/access.pat"

CD=$W/conf/sub # does not exist yet: connect makes it
CONF=$CD/bucketfs.conf
KEY=$CD/master.key

bfs() { "$BFS_BIN" "$@"; }
keys() { printf '%s\n%s\n' "$STORE_ACCESS" "$STORE_SECRET"; }
connect() # NAME ARGS...: keys from stdin into $CONF
{
	local name=$1
	shift
	keys | bfs bucket connect "$name" --config "$CONF" --keys-from-stdin "$@"
}
connect_rgw() # NAME ARGS...: the RGW bucket under test
{
	local name=$1
	shift
	connect "$name" --provider custom --endpoint "$STORE_URL" \
		--bucket "$BKT" "$@"
}
has_secret() { grep -rqFf "$W/secret.pat" "$@"; }
has_access() { grep -rqFf "$W/access.pat" "$@"; }
mode_of() { stat -c %a "$1"; }

# t_exit1_with NAME TEXT CMD...: CMD exits with status 1 exactly (an
# error, not a crash) and its output holds TEXT
t_exit1_with()
{
	local name=$1 text=$2 st
	shift 2
	"$@" >"$W/.t_out" 2>&1
	st=$?
	if [ "$st" -eq 1 ] && grep -qF -- "$text" "$W/.t_out"; then
		_t_result 0 "$name"
		return 0
	fi
	_t_result 1 "$name"
	t_diag "command: $* (exit $st), wanted exit 1 with '$text'"
	t_diag_file "$W/.t_out"
	return 1
}

# t_out NAME TEXT CMD...: CMD succeeds and its output holds TEXT
t_out()
{
	local name=$1 text=$2 st
	shift 2
	"$@" >"$W/.t_out" 2>&1
	st=$?
	if [ "$st" -eq 0 ] && grep -qF -- "$text" "$W/.t_out"; then
		_t_result 0 "$name"
		return 0
	fi
	_t_result 1 "$name"
	t_diag "command: $* (exit $st), wanted success with '$text'"
	t_diag_file "$W/.t_out"
	return 1
}

# conf_get FILE SECTION KEY / conf_set FILE SECTION KEY VALUE: read or
# replace one value in place (the file keeps its mode). Only ciphertexts
# go through here.
conf_get()
{
	python3 - "$@" <<'EOF'
import re, sys
path, sec, key = sys.argv[1:4]
cur = None
for line in open(path):
    m = re.match(r'\s*\[(.*)\]\s*$', line)
    if m:
        cur = ' '.join(m.group(1).split())
        continue
    m = re.match(r'\s*([^=\s]+)\s*=\s*(.*?)\s*$', line)
    if m and cur == sec and m.group(1) == key:
        print(m.group(2))
EOF
}
conf_set()
{
	python3 - "$@" <<'EOF'
import re, sys
path, sec, key, val = sys.argv[1:5]
cur, out = None, []
for line in open(path):
    m = re.match(r'\s*\[(.*)\]\s*$', line)
    if m:
        cur = ' '.join(m.group(1).split())
    m2 = re.match(r'\s*([^=\s]+)\s*=', line)
    if m2 and cur == sec and m2.group(1) == key:
        line = '%s = %s\n' % (key, val)
    out.append(line)
open(path, 'w').write(''.join(out))
EOF
}
# flip_byte TEXT: the enc:v1 value with one ciphertext byte flipped
flip_byte()
{
	python3 -c 'import base64, sys
t = sys.argv[1][len("enc:v1:"):]
raw = bytearray(base64.b64decode(t))
raw[14] ^= 0x01
print("enc:v1:" + base64.b64encode(bytes(raw)).decode())' "$1"
}
now() { date +%s.%N; }
elapsed_below() { python3 -c 'import sys; sys.exit(not float(sys.argv[2]) - float(sys.argv[1]) < float(sys.argv[3]))' "$@"; }

# ------------------------------------------------------------ connect

t_out "connect with keys from stdin tests the connection and saves" \
	"connection test passed" connect_rgw rgw
t_is "the config file was created with mode 600" "$(mode_of "$CONF")" 600
t_is "its directory was created with mode 700" "$(mode_of "$CD")" 700
t_is "the master key was created beside it with mode 600" \
	"$(mode_of "$KEY")" 600
t_is "the master key is 32 bytes" "$(stat -c %s "$KEY")" 32
t_ok "access_key_id is stored as enc:v1:" \
	grep -q '^access_key_id = enc:v1:' "$CONF"
t_ok "secret_access_key is stored as enc:v1:" \
	grep -q '^secret_access_key = enc:v1:' "$CONF"
t_fails "the plaintext secret appears nowhere in the config dir" \
	has_secret "$W/conf"
t_fails "the plaintext access key id appears nowhere in the config dir" \
	has_access "$W/conf"

# the mount needs its own directories: a [bucketfs] section by hand, on
# top (comments and the rest are kept by the CLI's later edits)
{
	echo "# written by cli_bucket.sh"
	echo "[bucketfs]"
	echo "builtin_dir = $W/builtin"
	echo "cache_dir = $W/cache"
	echo "connect_timeout = 5"
	echo "request_timeout = 5"
	echo
	cat "$CONF"
} >"$CONF.tmp" && chmod 600 "$CONF.tmp" && mv "$CONF.tmp" "$CONF"
mkdir -p "$W/builtin" "$W/cache"

t_fails_with "an existing name is refused" "already exists" connect_rgw rgw
t_fails_with "the name builtin is refused" "builtin" connect_rgw builtin
t_fails_with "a bad name is refused" "bad bucket name" connect_rgw 'a/b'
t_fails_with "custom without --endpoint is refused" "--endpoint" \
	connect nope --provider custom --bucket "$BKT"
t_fails_with "no keys and no terminal is a clear error" "no keys" \
	bfs bucket connect nokeys --config "$CONF" --provider custom \
	--endpoint "$STORE_URL" --bucket "$BKT" </dev/null
connect_env()
{
	(
		export AWS_ACCESS_KEY_ID=$STORE_ACCESS
		export AWS_SECRET_ACCESS_KEY=$STORE_SECRET
		bfs bucket connect fromenv --config "$CONF" --provider custom \
			--endpoint "$STORE_URL" --bucket "$BKT" --prefix env/ \
			</dev/null
	)
}
t_out "connect takes the keys from AWS_* of the environment" \
	"connection test passed" connect_env
t_is "those are stored encrypted too" \
	"$(conf_get "$CONF" "bucket fromenv" secret_access_key | cut -c1-7)" \
	"enc:v1:"
t_fails "still no plaintext secret in the config dir" has_secret "$W/conf"
# the prompt, on a terminal (a pty made by python3): each key typed once
# its prompt has appeared (waited for, bounded), then `stty -a` on the
# same terminal; the keys reach python in its environment, never argv
connect_prompt()
{
	T_ID=$STORE_ACCESS T_SK=$STORE_SECRET python3 - "'$BFS_BIN' bucket \
		connect prompted --config '$CONF' --provider custom \
		--endpoint '$STORE_URL' --bucket '$BKT' --prefix prompted/; \
		stty -a" <<'PY'
import os, pty, select, sys, time
keys = [(b"Access key id: ", os.environ.pop("T_ID")),
        (b"(not echoed): ", os.environ.pop("T_SK"))]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sh", ["sh", "-c", sys.argv[1]])
out = b""
end = time.monotonic() + 60
while time.monotonic() < end:
    if keys and keys[0][0] in out:
        os.write(fd, keys.pop(0)[1].encode() + b"\n")
    if not select.select([fd], [], [], 1)[0]:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:  # EIO: the other side is closed
        break
    if not data:
        break
    out += data
else:
    os.kill(pid, 9)  # not done within the bound
sys.stdout.buffer.write(out)
st = os.waitpid(pid, 0)[1]
sys.exit(os.waitstatus_to_exitcode(st) if not keys else 1)
PY
}
t_out "connect asks for the keys on a terminal" "saved bucket 'prompted'" \
	connect_prompt
cp "$W/.t_out" "$W/prompt.out"
t_ok "the prompt says the secret is not echoed" \
	grep -q "Secret access key (not echoed):" "$W/prompt.out"
t_fails "the terminal did not echo the secret" has_secret "$W/prompt.out"
t_ok "the access key id is echoed (it names the key; no secret)" \
	has_access "$W/prompt.out"
t_ok "echo is back on afterwards" \
	sh -c "grep -qw echo '$W/prompt.out' && ! grep -qw -- -echo '$W/prompt.out'"

# ------------------------------------------------------ list and show

bfs bucket list --config "$CONF" >"$W/list" 2>&1
t_is "list shows builtin first" "$(sed -n 2p "$W/list" | awk '{print $1}')" \
	builtin
t_ok "list shows the connected bucket and its endpoint" \
	grep -q "^rgw  *custom  *$BKT  *$STORE_URL" "$W/list"
t_out "--config before the command works too" rgw \
	bfs --config "$CONF" bucket list
bfs bucket show rgw --config "$CONF" >"$W/show" 2>&1
t_ok "show prints every field" grep -q "endpoint *$STORE_URL" "$W/show"
t_ok "show masks the access key id and says it is encrypted" \
	grep -q 'access_key_id .*….* (encrypted)$' "$W/show"
t_ok "show says a secret exists, never shown" \
	grep -q 'secret_access_key *set (encrypted, never shown)' "$W/show"
t_fails "show never prints the secret" has_secret "$W/show"
t_fails "show never prints the whole access key id" has_access "$W/show"
t_fails_with "show of an unknown bucket fails" "unknown bucket" \
	bfs bucket show nosuch --config "$CONF"

# ---------------------------------------------------- connection test

t_out "bucket test passes with the right keys" \
	"connection test passed (5 steps)" bfs bucket test rgw --config "$CONF"
cp "$W/.t_out" "$W/test.out"
for step in "endpoint resolved" "TCP/TLS connected" \
	"request signed and accepted" "bucket exists" "list allowed"; do
	t_ok "bucket test prints step '$step' with ok and a time" \
		grep -q "^  $step.* ok  *[0-9][0-9]* ms" "$W/test.out"
done
t_out "bucket test --write puts, reads back and deletes a probe" \
	"connection test passed (8 steps)" \
	bfs bucket test rgw --write --config "$CONF"
cp "$W/.t_out" "$W/test.out"
t_ok "the probe was read back identical" \
	grep -q "probe object read back .* ok .*identical" "$W/test.out"
t_fails "the test output holds no secret" has_secret "$W/test.out"

keys_wrong() { printf '%s\n%s\n' "$STORE_ACCESS" "not-the-right-secret"; }
connect_wrong()
{
	keys_wrong | bfs bucket connect wrong --config "$CONF" \
		--keys-from-stdin --provider custom --endpoint "$STORE_URL" \
		--bucket "$BKT" "$@"
}
t_exit1_with "a wrong secret fails connect with SignatureDoesNotMatch" \
	"SignatureDoesNotMatch" connect_wrong
cp "$W/.t_out" "$W/test.out"
t_ok "the failure line gives the cause and the fix" \
	grep -q "error: wrong secret (SignatureDoesNotMatch).*; fix: " "$W/test.out"
t_ok "and the bucket was not saved" \
	sh -c "! grep -q '^\[bucket wrong\]' '$CONF'"
t_ok "with --no-test it is saved anyway" connect_wrong --no-test
t_exit1_with "bucket test of the saved wrong secret: SignatureDoesNotMatch" \
	"SignatureDoesNotMatch" bfs bucket test wrong --config "$CONF"
# the mount asks the S3 store under its caches for the cause (the caches
# know none): the code, the server's message and the fix, not EACCES
mkdir -p "$W/mnt-wrong"
t_exit1_with "a mount with the wrong secret names SignatureDoesNotMatch" \
	"cannot reach bucket 'wrong': SignatureDoesNotMatch (HTTP 403)" \
	bfs mount --config "$CONF" wrong "$W/mnt-wrong"
cp "$W/.t_out" "$W/mount-wrong.out"
t_ok "... with the hint and the fix" grep -q \
	"wrong secret access key.*; fix: give bucket 'wrong' the right keys" \
	"$W/mount-wrong.out"
t_fails "... not a bare Permission denied" \
	grep -q "Permission denied" "$W/mount-wrong.out"
t_fails "... and no secret" has_secret "$W/mount-wrong.out"
t_fails "... which mounted nothing" is_mounted "$W/mnt-wrong"

keys_unknown() { printf '%s\n%s\n' "NOSUCHKEYID0000000000" "whatever-secret"; }
connect_unknown_id()
{
	keys_unknown | bfs bucket connect unknownid --config "$CONF" \
		--keys-from-stdin --provider custom --endpoint "$STORE_URL" \
		--bucket "$BKT"
}
t_exit1_with "an unknown key id fails with InvalidAccessKeyId" \
	"unknown access key id (InvalidAccessKeyId)" connect_unknown_id
t_exit1_with "an unknown bucket fails with no such bucket" \
	"no such bucket (NoSuchBucket)" \
	connect nobucket --provider custom --endpoint "$STORE_URL" \
	--bucket "no-such-bucket-$$"

port=$(free_port)
t_exit1_with "a closed port fails with connection refused" \
	"connection refused by 127.0.0.1 port $port" \
	connect closed --provider custom --endpoint "http://127.0.0.1:$port" \
	--bucket "$BKT"

# timeouts of 2 s in a second config
C2=$W/conf2/bucketfs.conf
mkdir -p "$W/conf2" && chmod 700 "$W/conf2"
printf '[bucketfs]\nconnect_timeout = 2\nrequest_timeout = 2\n' >"$C2"
chmod 600 "$C2"
connect2() # NAME PORT
{
	keys | bfs bucket connect "$1" --config "$C2" --keys-from-stdin \
		--provider custom --endpoint "http://127.0.0.1:$2" --bucket "$BKT"
}
# black hole: a listening socket that never accepts nor answers
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$W/bh.port" &
bh=$!
_t_stop+=("kill $bh")
wait_for 10 test -s "$W/bh.port" || t_abort "start the black-hole listener"
t0=$(now)
t_exit1_with "a black-holed port fails with a timeout" \
	"timeout: http://127.0.0.1:$(cat "$W/bh.port") accepted the connection but sent no answer within request_timeout (2 s)" \
	connect2 blackhole "$(cat "$W/bh.port")"
t1=$(now)
# the bound is loose (a loaded machine starts the sanitizer build slowly)
# yet below one op_timeout (30 s), which retries would reach
t_ok "... within the configured timeouts (2 s + 2 s, plus slack)" \
	elapsed_below "$t0" "$t1" 15
# a listener whose backlog is full drops SYNs: a connect timeout
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
f = socket.socket(); f.connect(s.getsockname())
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$W/syn.port" &
syn=$!
_t_stop+=("kill $syn")
wait_for 10 test -s "$W/syn.port" || t_abort "start the SYN-dropping listener"
t0=$(now)
t_exit1_with "dropped SYNs fail with a connect timeout" \
	"timeout: no answer from 127.0.0.1 port $(cat "$W/syn.port") within connect_timeout (2 s)" \
	connect2 synhole "$(cat "$W/syn.port")"
t1=$(now)
t_ok "... within connect_timeout (2 s, plus slack, below op_timeout)" \
	elapsed_below "$t0" "$t1" 15
# https with a certificate nobody trusts
if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$W/tls.key" -out "$W/tls.crt" \
	-addext "subjectAltName=IP:127.0.0.1" >"$W/openssl.log" 2>&1; then
	python3 -c 'import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    try:
        ctx.wrap_socket(c, server_side=True).close()
    except Exception:
        c.close()' "$W/tls.crt" "$W/tls.key" >"$W/tls.port" 2>/dev/null &
	tls=$!
	_t_stop+=("kill $tls")
	wait_for 10 test -s "$W/tls.port" || t_abort "start the TLS listener"
	keys_tls()
	{
		keys | bfs bucket connect selfsigned --config "$C2" \
			--keys-from-stdin --provider custom \
			--endpoint "https://127.0.0.1:$(cat "$W/tls.port")" \
			--bucket "$BKT"
	}
	t_exit1_with "a self-signed certificate fails as not trusted" \
		"certificate not trusted" keys_tls
else
	_t_result 1 "openssl made a test certificate"
	t_diag_file "$W/openssl.log"
fi
t_fails "no failed connect was saved" \
	grep -q '^\[bucket \(blackhole\|synhole\|selfsigned\|closed\|nobucket\|unknownid\)\]' \
	"$C2" "$CONF"

# ------------------------------------------------------------- mount

BFS_CONF=$CONF # lib.sh mounts with this file
BFS_MNT=$W/mnt-rgw-$$
bfs_mount rgw || t_abort "mount bucket rgw with its encrypted keys"
t_ok "write a file through the mount" sh -c "echo hello-bucketfs >'$BFS_MNT/hello.txt'"
t_is "read it back" "$(cat "$BFS_MNT/hello.txt")" hello-bucketfs
pid=$(pgrep -f -- "$BFS_MNT" | head -n 1)
t_is "pgrep on the mountpoint finds the daemon" "$pid" "$BFS_PID"
t_fails "the secret is not in /proc/PID/cmdline" \
	grep -aqFf "$W/secret.pat" "/proc/$pid/cmdline"
t_fails "the secret is not in /proc/PID/environ" \
	grep -aqFf "$W/secret.pat" "/proc/$pid/environ"
t_fails "the access key id is not in /proc/PID/environ" \
	grep -aqFf "$W/access.pat" "/proc/$pid/environ"
t_ok "core dumps are off (RLIMIT_CORE 0 in /proc/PID/limits)" \
	grep -q '^Max core file size *0 *0 ' "/proc/$pid/limits"
t_fails "the secret is not in the daemon's log" has_secret "$BFS_LOG"
t_ok "unmount the rgw bucket" bfs_umount

# keys from the environment of the mount: wiped from /proc/PID/environ
{
	echo
	echo "[bucket envonly]"
	echo "provider = custom"
	echo "endpoint = $STORE_URL"
	echo "bucket = $BKT"
	echo "prefix = envonly/"
} >>"$CONF"
export AWS_ACCESS_KEY_ID=$STORE_ACCESS
export AWS_SECRET_ACCESS_KEY=$STORE_SECRET
bfs_mount envonly
st=$?
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
[ "$st" -eq 0 ] || t_abort "mount a bucket with keys from AWS_*"
t_ok "a bucket with keys from AWS_* mounts and writes" \
	sh -c "echo env >'$BFS_MNT/env.txt'"
t_fails "the daemon wiped AWS_SECRET_ACCESS_KEY from /proc/PID/environ" \
	grep -aqFf "$W/secret.pat" "/proc/$BFS_PID/environ"
t_fails "and AWS_ACCESS_KEY_ID" \
	grep -aqFf "$W/access.pat" "/proc/$BFS_PID/environ"
t_ok "unmount envonly" bfs_umount
bfs_mount rgw || t_abort "mount bucket rgw again"

# Dumpability: /proc/PID/* files (not the directory) of a non-dumpable
# process belong to root. Shown with a mount run under another group,
# next to a control process under that group.
G=54321
M2=$W/mnt-dump-$$
mkdir -p "$M2"
_t_mounts+=("$M2")
setpriv --regid=$G --clear-groups sleep 60 &
ctl=$!
_t_stop+=("kill $ctl")
if setpriv --regid=$G --clear-groups "$BFS_BIN" mount --config "$CONF" rgw \
	"$M2" >"$W/mount-dump.out" 2>&1; then
	dpid=$(pgrep -f -- "$M2" | head -n 1)
	t_is "control: a dumpable process's /proc/PID/status has its group" \
		"$(stat -c %g "/proc/$ctl/status")" $G
	t_is "the mount daemon's /proc/PID runs under group $G" \
		"$(stat -c %g "/proc/$dpid")" $G
	t_is "its /proc/PID/status belongs to root: not dumpable" \
		"$(stat -c %g "/proc/$dpid/status")" 0
	fusermount3 -u "$M2"
	wait_for 30 sh -c "! kill -0 $dpid 2>/dev/null"
else
	_t_result 1 "mount under group $G"
	t_diag_file "$W/mount-dump.out"
fi
kill "$ctl" 2>/dev/null

# --------------------------------------- damaged and moved ciphertexts

cp -p "$CONF" "$W/conf.good"
good_secret=$(conf_get "$CONF" "bucket rgw" secret_access_key)
conf_set "$CONF" "bucket rgw" secret_access_key "$(flip_byte "$good_secret")"
t_exit1_with "a flipped byte in the ciphertext: bucket test fails clearly" \
	"cannot decrypt secret_access_key of bucket 'rgw'" \
	bfs bucket test rgw --config "$CONF"
mkdir -p "$W/mnt-bad"
t_exit1_with "... and so does a mount" "cannot decrypt secret_access_key" \
	bfs mount --config "$CONF" rgw "$W/mnt-bad"
t_fails "... which mounted nothing" is_mounted "$W/mnt-bad"
t_out "show names the broken value" "set (encrypted; cannot decrypt" \
	bfs bucket show rgw --config "$CONF"
cp -p "$W/conf.good" "$CONF"

conf_set "$CONF" "bucket fromenv" secret_access_key "$good_secret"
t_exit1_with "a secret pasted into another bucket's section fails clearly" \
	"cannot decrypt secret_access_key of bucket 'fromenv': wrong master key, or the value was copied from another bucket" \
	bfs bucket test fromenv --config "$CONF"
cp -p "$W/conf.good" "$CONF"

cp -p "$KEY" "$W/key.good"
head -c 32 /dev/urandom >"$KEY"
t_exit1_with "a wrong master key fails clearly" "wrong master key" \
	bfs bucket test rgw --config "$CONF"
t_exit1_with "key rotate refuses to run on it and changes nothing" \
	"nothing was changed" bfs key rotate --config "$CONF"
t_ok "the config is unchanged" cmp -s "$CONF" "$W/conf.good"
rm -f "$KEY"
t_exit1_with "a missing master key fails clearly" "no master key" \
	bfs bucket test rgw --config "$CONF"
cp -p "$W/key.good" "$KEY"
t_out "with the right key back the test passes" "connection test passed" \
	bfs bucket test rgw --config "$CONF"

# ---------------------------------------------------------- rotation

grep 'enc:v1:' "$CONF" | sort >"$W/enc.before"
t_out "key rotate re-encrypts every secret" "rotated: 8 encrypted keys" \
	bfs key rotate --config "$CONF"
grep 'enc:v1:' "$CONF" | sort >"$W/enc.after"
t_is "every ciphertext changed" \
	"$(comm -12 "$W/enc.before" "$W/enc.after" | wc -l)" 0
t_fails "the master key changed" cmp -s "$KEY" "$W/key.good"
t_is "it keeps mode 600" "$(mode_of "$KEY")" 600
t_fails "no master.key.new is left" test -e "$KEY.new"
t_fails "no plaintext secret after rotation" has_secret "$W/conf"
# The running mount reloads the config at each rotation's commit (step
# 2), while the rotation renames master.key.new over master.key (step 3):
# each reload must find the key the file was written with, or the bucket
# fails with EACCES until the config changes again. One rotation in three
# lost that race when the mount read master.key first.
creds_used() { grep -c 'its new credentials are in use' "$BFS_LOG"; }
creds_moved() { [ "$(creds_used)" -gt "$1" ]; }
bad=
for i in $(seq 20); do
	seen=$(creds_used)
	bfs key rotate --config "$CONF" >/dev/null 2>&1 || bad="$bad rotate$i"
	wait_for 10 creds_moved "$seen" || bad="$bad reload$i"
	# cp, not a shell redirection: the shell ignores close's error,
	# where the upload fails
	echo "rotation $i" >"$W/rotated.txt"
	cp "$W/rotated.txt" "$BFS_MNT/rotated.txt" 2>>"$W/rotated.err" ||
		bad="$bad write$i"
done
t_is "20 rotations under the running mount: it reloads and writes after each" \
	"$bad" ""
t_diag_file "$W/rotated.err"
t_is "... and reads the last" "$(cat "$BFS_MNT/rotated.txt")" "rotation 20"
t_ok "the running mount still works (write)" \
	sh -c "echo after-rotate >'$BFS_MNT/after.txt'"
t_is "the running mount still works (read)" "$(cat "$BFS_MNT/after.txt")" \
	after-rotate
t_ok "unmount" bfs_umount
bfs_mount rgw || t_abort "mount again after the rotation"
t_is "a new mount decrypts with the new key and sees the files" \
	"$(cat "$BFS_MNT/hello.txt" "$BFS_MNT/after.txt" | tr '\n' ' ')" \
	"hello-bucketfs after-rotate "
t_ok "unmount the new mount" bfs_umount

# a rotation interrupted after the config commit (step 2 of 3): the
# config is under master.key.new and master.key is the old key
cp -p "$KEY" "$W/key.k1"
bfs key rotate --config "$CONF" >/dev/null 2>&1
mv "$KEY" "$KEY.new"
cp -p "$W/key.k1" "$KEY"
t_out "interrupted after the config: bucket test falls back to master.key.new" \
	"connection test passed" bfs bucket test rgw --config "$CONF"
t_out "key rotate finishes the interrupted rotation first" \
	"an earlier rotation was interrupted" bfs key rotate --config "$CONF"
t_fails "then no master.key.new is left" test -e "$KEY.new"
t_out "and the test passes" "connection test passed" \
	bfs bucket test rgw --config "$CONF"
# interrupted before the config (step 1 of 3): a stray master.key.new
head -c 32 /dev/urandom >"$KEY.new"
chmod 600 "$KEY.new"
t_out "interrupted before the config: bucket test passes" \
	"connection test passed" bfs bucket test rgw --config "$CONF"
t_out "key rotate overwrites the stray key and completes" "rotated:" \
	bfs key rotate --config "$CONF"
t_fails "no master.key.new is left" test -e "$KEY.new"
bfs_mount rgw || t_abort "mount after the interrupted rotations"
t_is "the mount reads the files" "$(cat "$BFS_MNT/hello.txt")" hello-bucketfs
t_ok "unmount after the interrupted rotations" bfs_umount

# ------------------------------------------------------------ remove

t_ok "catalog add on the bucket" \
	bfs catalog add sales --type managed --bucket rgw --config "$CONF"
t_exit1_with "remove of a bucket a catalog uses is refused with its name" \
	"used by catalog 'sales'" bfs bucket remove rgw --config "$CONF"
t_exit1_with "remove of builtin is refused" "builtin bucket cannot be removed" \
	bfs bucket remove builtin --config "$CONF"
t_exit1_with "remove of an unknown bucket is refused" "unknown bucket" \
	bfs bucket remove nosuch --config "$CONF"
t_ok "catalog remove" bfs catalog remove sales --config "$CONF"
t_ok "then bucket remove works" bfs bucket remove rgw --config "$CONF"
t_fails "the section is gone" grep -q '^\[bucket rgw\]' "$CONF"
t_ok "the hand-written comment is kept" \
	grep -q '^# written by cli_bucket.sh' "$CONF"
t_is "the file keeps mode 600" "$(mode_of "$CONF")" 600

t_plan_done
