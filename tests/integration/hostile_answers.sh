#!/usr/bin/env bash
# hostile_answers.sh - every kind of answer S3 (or something in front of
# it) can give, injected by tests/tools/faultproxy.py in front of Ceph RGW
# into a real mount whose daemon runs under a memory cap (bfs_mount_daemon
# with BFS_MEMCAP_MB): a skewed server clock, an <Error> inside a 200
# (CopyObject, CompleteMultipartUpload), redirects (307 followed, 301 a
# clear error), truncated bodies and short Content-Lengths, error bodies
# that are not XML, invalid XML, huge and slow headers, SlowDown and 429
# with and without Retry-After. Each case has the outcome doc/errors.md
# states, leaves a log line in log_file= naming the server, the request
# and the cause, and the daemon's peak RSS stays under 128 MiB.
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

store_start_rgw || t_abort "Ceph RGW starts"
bucket=bfs-answers-$$
s3_mkbucket "$STORE_URL" "$bucket" || t_abort "create the bucket"
bfs_faultproxy_start answers "$bucket" || t_abort "the fault proxy starts"

# objects written by another client, so no read is served from the
# mount's cache
head -c 300000 /dev/urandom >"$W/data"
for k in a b c d e f g h i j k l m n; do
	s3_curl PUT "$bucket/$k" -T "$W/data" >/dev/null || t_abort "put $k"
done
s3_curl PUT "$bucket/list/x" -T "$W/data" >/dev/null || t_abort "put list/x"

BFS_MEMCAP_MB=384
bfs_mount_daemon -o op_timeout=8,request_timeout=3,retries=3,attr_ttl=0,dir_ttl=0,neg_ttl=0,multipart_threshold=5M,part_size=5M \
	answers || t_abort "mount through the proxy"
B=$BFS_B
LOG=$BFS_LOG.file
bfs_log_expect "RequestTimeTooSkewed|too skewed|retry|InternalError|PermanentRedirect|redirect|Forbidden|malformed|XML|headers larger|op_timeout|timed out|cannot|failed|HTTP [0-9]+"
t_ok "the daemon runs under a memory cap" bfs_memcap_check "$BFS_PID"

# bounded NAME CMD...: CMD with a 60 s ceiling; output in $W/NAME.out,
# exit status in $W/NAME.st (124: still running after 60 s)
bounded()
{
	local name=$1
	shift
	timeout -k 5 60 "$@" >"$W/$name.out" 2>&1
	echo $? >"$W/$name.st"
}
# expect NAME TEXT WHAT: the bounded call NAME failed with TEXT in time
expect()
{
	local st
	st=$(cat "$W/$1.st")
	if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && [ "$st" -ne 137 ] &&
		grep -qF -- "$2" "$W/$1.out"; then
		_t_result 0 "$3"
	else
		_t_result 1 "$3"
		t_diag "exit $st, wanted a failure with '$2' within 60 s"
		t_diag_file "$W/$1.out"
	fi
}
# logged ERE WHAT: one line of log_file= matches ERE
logged()
{
	t_ok "$2" grep -qE -- "$1" "$LOG"
}
srv="s3:answers"

# -- a server whose clock is 10 minutes ahead: corrected from its Date
set_rules "skew 100000 *"
t_ok "skewed server clock: the read succeeds" cmp "$W/data" "$B/a"
calm
t_ok "the proxy refused the local clock, then took the corrected one" \
	sh -c "grep -q 'answered RequestTimeTooSkewed' '$W/proxy.log' &&
		grep -q \"signed with the server's clock, forwarded\" '$W/proxy.log'"
logged "$srv: the server says the request time is too skewed: the local clock is (59[0-9]|60[0-9]) s behind the server's" \
	"the log names the server, the skew and the fix"

# -- an <Error> inside a 200: CopyObject (rename) and CompleteMultipartUpload
set_rules "error200 1 PUT:$bucket/b2"
t_ok "CopyObject answered 200 with <Error> once: the rename succeeds" \
	mv "$B/b" "$B/b2"
calm
t_ok "the renamed file has the right bytes" cmp "$W/data" "$B/b2"
t_ok "the old name is gone" test ! -e "$B/b"
logged "$srv: COPY 'b2': InternalError inside a 200 response, retry 1/3" \
	"the log names the copy and the error in its 200"
set_rules "error200 100 PUT:$bucket/c2"
bounded copyfail mv "$B/c" "$B/c2"
calm
expect copyfail "Input/output error" \
	"CopyObject always answered 200 with <Error>: the rename is EIO"
t_ok "a failed rename leaves the source whole" cmp "$W/data" "$B/c"
t_ok "a failed rename leaves no destination" test ! -e "$B/c2"
logged "$srv: COPY 'c2': InternalError \(HTTP 200\)" \
	"the log names the copy, its key and the code in the 200"
rand_file "$W/big" 11
set_rules "error200 1 POST:uploadId="
t_ok "CompleteMultipartUpload answered 200 with <Error> once: the write succeeds" \
	cp "$W/big" "$B/big"
calm
remote_is() { s3_curl GET "$bucket/$1" | cmp - "$2"; }
t_ok "the multipart object has the right bytes (read by another client)" \
	remote_is big "$W/big"
logged "$srv: MPU-COMPLETE 'big': InternalError inside a 200 response, retry 1/3" \
	"the log names the completion and the error in its 200"

# -- redirects
set_rules "redirect307 1 GET:$bucket/d"
t_ok "307 with a Location: followed, signed for the new host" \
	cmp "$W/data" "$B/d"
calm
logged "$srv: GET .*/$bucket/d: 307 TemporaryRedirect to http://127\.0\.0\.1:[0-9]+/$bucket/d, following it signed for '127\.0\.0\.1:[0-9]+'" \
	"the log names the request and where it was redirected"
set_rules "redirect301 100 GET:$bucket/e"
bounded moved cat "$B/e"
calm
expect moved "Object is remote" "301 PermanentRedirect: cat fails with EREMOTE"
logged "$srv: GET 'e': PermanentRedirect \(HTTP 301\).*\[region eu-west-1, endpoint 127\.0\.0\.1:[0-9]+\]" \
	"the log names the region and the endpoint to use"

# -- truncated bodies and wrong Content-Length
set_rules "short-body 1 GET:$bucket/f"
t_ok "a body cut short (FIN): retried, the read is right" cmp "$W/data" "$B/f"
calm
logged "$srv: GET .*/$bucket/f: connection reset \(.*\), retry 1/3 in " \
	"the log names the cut body"
# the first GET of a cold file is its lookup's head, of the first 64 KiB
# (store.h, head_read): the rule halves that one
set_rules "short-length 1 GET:$bucket/g"
t_ok "a Content-Length shorter than the range: retried, the read is right" \
	cmp "$W/data" "$B/g"
calm
logged "$srv: GET .*/$bucket/g: answer shorter than its Content-Range \(32768 of 65536 bytes\), retry 1/3 in " \
	"the log names the short answer and both lengths"

# -- error bodies that are not XML
set_rules "error-html 2 GET:$bucket/h"
t_ok "503 with an HTML page: retried, the read is right" cmp "$W/data" "$B/h"
calm
logged "$srv: GET .*/$bucket/h: HTTP 503, retry 2/3" \
	"the log names each retried 503"
set_rules "error-text403 100 GET:$bucket/i"
bounded text403 cat "$B/i"
calm
expect text403 "Permission denied" "403 with a plain-text body: EACCES"
logged "$srv: GET 'i': Forbidden \(HTTP 403\)" \
	"the log names the request and the status"

# -- invalid XML in a listing
set_rules "badxml 100 GET:delimiter="
bounded badxml ls "$B/list"
calm
expect badxml "Input/output error" "a listing of invalid XML: ls is EIO"
logged "$srv: LIST 'list/': .*malformed XML at line 1 column [0-9]+" \
	"the log names the listed prefix and where its XML broke"

# -- huge and slow headers
set_rules "huge-headers 100 GET:$bucket/j"
bounded huge cat "$B/j"
calm
expect huge "Input/output error" "128 KiB of response headers: EIO"
logged "$srv: GET 'j': response headers larger than 65536 bytes" \
	"the log names the oversized headers"
t_ok "after huge headers: the file reads right" cmp "$W/data" "$B/j"
set_rules "slow-headers 100 GET:$bucket/k"
bounded slowhdr cat "$B/k"
calm
expect slowhdr "Connection timed out" \
	"headers at a byte every 0.1 s: ETIMEDOUT at op_timeout"
# header bytes are no transfer to curl's low-speed limit (1 byte/s over
# request_timeout): each attempt is cut at request_timeout, not at
# op_timeout, and retried (doc/errors.md)
logged "$srv: GET .*/$bucket/k: timed out \(Operation too slow.*\), retry 1/3 in " \
	"headers at a byte every 0.1 s: the attempt is cut at request_timeout and retried"
logged "$srv: GET 'k': .*op_timeout \(8 s\)" \
	"the log names the op_timeout that ended the slow headers"

# -- throttling
set_rules "slowdown 2 GET:$bucket/l"
t_ok "503 SlowDown twice: retried, the read is right" cmp "$W/data" "$B/l"
calm
logged "$srv: GET .*/$bucket/l: HTTP 503, retry 2/3 in " \
	"the log names the SlowDown retries"
set_rules "slowdown-retry-after 1 GET:$bucket/m"
t_ok "503 SlowDown with Retry-After: retried, the read is right" \
	cmp "$W/data" "$B/m"
calm
logged "$srv: GET .*/$bucket/m: HTTP 503, retry 1/3 in 1\.00 s" \
	"Retry-After: 1 is obeyed (the retry waits 1 s)"
set_rules "429 1 GET:$bucket/n"
t_ok "429 with Retry-After: retried, the read is right" cmp "$W/data" "$B/n"
calm
logged "$srv: GET .*/$bucket/n: HTTP 429, retry 1/3 in 1\.00 s" \
	"429's Retry-After is obeyed"

t_is "after every answer: the directory lists" "$(ls "$B/list")" x
bfs_rss_ok "after every answer: memory stays bounded"
t_ok "unmount" bfs_umount
t_plan_done
