#!/usr/bin/env bash
# ops_metrics.sh - the metrics of a mount over Ceph RGW move as the
# workload says: an upload counts a PUT and its bytes sent, a read of an
# object another client wrote counts a GET and its bytes received, an
# object deleted under an open file a not_found answer, a held file
# descriptor an open file; a second read with the kernel's pages dropped is all block cache hits
# (no new miss, no new GET). The text is valid Prometheus exposition
# (histogram buckets cumulative, +Inf = _count = the requests counted),
# `bucketfs stats` prints the same for a person, and refuses what is not
# the root of a bucketfs mount. Every scrape is curl on the endpoint of
# -o metrics=127.0.0.1:0 (and, at the end, of a unix socket): staged
# files and bytes follow a held descriptor, the endpoint refuses what
# is not GET or HEAD of /metrics and a 32 KiB header, and 40 idle
# connections do not delay a write and read of the mount.
. "$(dirname "$0")/../lib.sh"

BFS_TEST_STORE=rgw
bfs_store_setup || t_abort "RGW and a bucket for the test"
RGW_BUCKET=$(awk '/^bucket = / { print $3 }' "$BFS_CONF")
# port 0: the daemon takes a free port and its log names it (a port
# picked here first could be taken by another test meanwhile)
bfs_mount "$BFS_BUCKET" -o metrics=127.0.0.1:0 ||
	t_abort "mount the RGW bucket"
served_at()
{
	URL=$(sed -n 's|.*serving metrics at \(http://[^ ]*/metrics\).*|\1|p' \
		"$BFS_LOG" | tail -n 1)
	[ -n "$URL" ]
}
t_ok "the daemon logs where it serves /metrics" wait_for 30 served_at
t_ok "on 127.0.0.1" sh -c "echo '$URL' | grep -q '^http://127\.0\.0\.1:[1-9]'"

# m NAME [LABEL=VALUE|VALUE2 ...]: the sum of the samples of NAME whose
# labels match every filter (alternatives separated by '|'); awk, not
# python, since each call costs a process start on a loaded machine.
# Every scrape goes through the HTTP endpoint, as Prometheus's would.
scrape()
{
	curl -sf --max-time 30 -o "$W/cur.prom" "$URL"
}
m()
{
	local name=$1
	shift
	scrape && awk -v name="$name" -v filt="$*" '
	BEGIN { nf = split(filt, F, " ") }
	/^#/ { next }
	{
		n = $1
		sub(/\{.*/, "", n)
		if (n != name)
			next
		for (i = 1; i <= nf; i++) {
			k = substr(F[i], 1, index(F[i], "=") - 1)
			want = "|" substr(F[i], index(F[i], "=") + 1) "|"
			if (!match($0, "[{,]" k "=\"[^\"]*\""))
				next
			got = substr($0, RSTART + length(k) + 3,
				RLENGTH - length(k) - 4)
			if (index(want, "|" got "|") == 0)
				next
		}
		sum += $NF
	}
	END { printf "%d\n", sum }' "$W/cur.prom"
}
# at_least MIN NAME FILTERS...: the metric has reached MIN
at_least()
{
	local min=$1
	shift
	[ "$(m "$@")" -ge "$min" ]
}

# the exposition format, checked line by line
cat >"$W/check.py" <<'PY'
import re, sys
from collections import defaultdict
types, seen, bad = {}, set(), []
buckets = defaultdict(list)
counts, reqs = {}, defaultdict(int)
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        continue
    t = re.match(r"^# TYPE (bucketfs_\w+) (counter|gauge|histogram)$", line)
    if t:
        if t.group(1) in types:
            bad.append(f"{n}: TYPE twice for {t.group(1)}")
        types[t.group(1)] = t.group(2)
        continue
    s = re.match(r'^(bucketfs_\w+?)(_bucket|_sum|_count)?(\{[^}]*\})? (\S+)$', line)
    if not s:
        bad.append(f"{n}: not a sample: {line}")
        continue
    base, suffix, labels, value = s.groups()
    family = base if base in types else base + (suffix or "")
    if family not in types:
        bad.append(f"{n}: no TYPE before {base}")
        continue
    float(value)
    if types[family] == "counter" and not family.endswith("_total"):
        bad.append(f"{n}: counter {family} without _total")
    lab = dict(re.findall(r'(\w+)="([^"]*)"', labels or ""))
    key = (lab.get("bucket"), lab.get("op"))
    if family == "bucketfs_requests_total":
        reqs[key] += int(value)
    if types[family] == "histogram":
        if suffix == "_bucket":
            buckets[key].append((lab["le"], int(value)))
        elif suffix == "_count":
            counts[key] = int(value)
for key, bs in buckets.items():
    vals = [v for _, v in bs]
    if vals != sorted(vals):
        bad.append(f"{key}: buckets not cumulative {vals}")
    if bs[-1][0] != "+Inf" or bs[-1][1] != counts.get(key):
        bad.append(f"{key}: +Inf bucket {bs[-1]} != _count {counts.get(key)}")
for key, c in counts.items():
    if reqs[key] != c:
        bad.append(f"{key}: {reqs[key]} requests counted, histogram has {c}")
if not counts:
    bad.append("no latency histogram at all")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

drop_pages()
{
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.close(fd)' "$1"
}

B=$BFS_BUCKET
t_ok "curl scrapes /metrics" scrape
# the cache layers add their families at their first snapshot (about a
# second after the start): compare once both reads agree
same_families()
{
	"$BFS_BIN" stats --prometheus "$BFS_MNT" | grep '^# TYPE' \
		>"$W/xattr.types" && scrape &&
		grep '^# TYPE' "$W/cur.prom" | cmp -s - "$W/xattr.types"
}
t_ok "stats --prometheus reads the same families from the mount root" \
	wait_for 30 same_families

# an upload: a PUT (or a multipart upload's parts) and its bytes
rand_file "$W/w.bin" 3
puts0=$(m bucketfs_requests_total bucket="$B" op="PUT|MPU-PART" status=ok)
sent0=$(m bucketfs_sent_bytes_total bucket="$B")
up0=$(m bucketfs_uploads_total)
t_ok "write a 3 MiB file through the mount" cp "$W/w.bin" "$BFS_MNT/w.bin"
t_ok "the upload is counted as a PUT" \
	at_least $((puts0 + 1)) bucketfs_requests_total bucket="$B" \
	op="PUT|MPU-PART" status=ok
t_ok "and its 3 MiB as bytes sent" \
	at_least $((sent0 + 3145728)) bucketfs_sent_bytes_total bucket="$B"
t_ok "and as an upload of the filesystem" \
	at_least $((up0 + 1)) bucketfs_uploads_total
t_is "no upload is in flight after close" "$(m bucketfs_uploads_in_flight)" 0

# a read of what another client wrote: a GET and its bytes
mkdir -p "$W/up"
rand_file "$W/up/r.bin" 2
cp "$W/up/r.bin" "$W/up/gone.bin"
cp "$W/up/r.bin" "$W/r.bin"
t_ok "another client writes r.bin and gone.bin" \
	aws_store s3 cp --quiet --recursive "$W/up" "s3://$RGW_BUCKET/"
gets0=$(m bucketfs_requests_total bucket="$B" op=GET status=ok)
recv0=$(m bucketfs_received_bytes_total bucket="$B")
served00=$(m bucketfs_cache_blocks_bytes_served_total bucket="$B")
blk0=$(find "$W/cache/blocks" -name '*.blk' -printf '%s\n' 2>/dev/null |
	awk '{ s += $1 } END { print s + 0 }')
t_ok "read it through the mount" cmp "$W/r.bin" "$BFS_MNT/r.bin"
t_ok "the read is counted as GETs" \
	at_least $((gets0 + 1)) bucketfs_requests_total bucket="$B" op=GET \
	status=ok
t_ok "and its 2 MiB as bytes received" \
	at_least $((recv0 + 2097152)) bucketfs_received_bytes_total bucket="$B"

# a second read, the kernel's pages gone: the block cache answers. Once
# both blocks are on disk every GET that fetched them has been counted
# (a request is counted before its caller sees the answer); the cache
# layers publish about once a second, so wait until the first read's
# 2 MiB are in their snapshot before taking the baseline.
blk_bytes()
{
	find "$W/cache/blocks" -name '*.blk' -printf '%s\n' 2>/dev/null |
		awk '{ s += $1 } END { print s + 0 }'
}
blocks_at_least()
{
	[ "$(blk_bytes)" -ge "$1" ]
}
t_ok "both blocks of r.bin reach the block cache" \
	wait_for 30 blocks_at_least $((blk0 + 2097152))
t_ok "the block cache snapshot shows the first read" \
	wait_for 30 at_least $((served00 + 2097152)) \
	bucketfs_cache_blocks_bytes_served_total bucket="$B"
gets1=$(m bucketfs_requests_total bucket="$B" op=GET status=ok)
hits0=$(m bucketfs_cache_blocks_hits_total bucket="$B")
miss0=$(m bucketfs_cache_blocks_misses_total bucket="$B")
served0=$(m bucketfs_cache_blocks_bytes_served_total bucket="$B")
drop_pages "$BFS_MNT/r.bin"
t_ok "read it again" cmp "$W/r.bin" "$BFS_MNT/r.bin"
t_is "the second read sent no GET" \
	"$(m bucketfs_requests_total bucket="$B" op=GET status=ok)" "$gets1"
t_ok "the snapshot shows the second read" \
	wait_for 30 at_least $((served0 + 2097152)) \
	bucketfs_cache_blocks_bytes_served_total bucket="$B"
t_ok "its blocks were cache hits" \
	at_least $((hits0 + 1)) bucketfs_cache_blocks_hits_total bucket="$B"
t_is "and none a miss" \
	"$(m bucketfs_cache_blocks_misses_total bucket="$B")" "$miss0"
t_ok "the metadata cache reports too" \
	grep -q "^bucketfs_cache_metadata_head_hits_total{bucket=\"$B\"} " \
	"$W/cur.prom"

# an object another client deletes while it is open here: the read
# gets a 404, counted as not_found (a lookup of a missing name is
# answered by a LIST, which succeeds)
nf0=$(m bucketfs_requests_total bucket="$B" op="GET|HEAD" status=not_found)
exec 4<"$BFS_MNT/gone.bin"
t_ok "and deletes it while it is open here" \
	aws_store s3 rm --quiet "s3://$RGW_BUCKET/gone.bin"
bfs_log_expect "read of 'gone.bin' at [0-9]+ failed: No such file or directory"
t_fails "reading it fails" sh -c 'cat <&4' 
exec 4<&-
t_ok "the 404 is counted as not_found" \
	at_least $((nf0 + 1)) bucketfs_requests_total bucket="$B" \
	op="GET|HEAD" status=not_found

# open files: a descriptor held by this shell (release is asynchronous
# in FUSE, hence the waits)
open_files_is()
{
	[ "$(m bucketfs_open_files)" = "$1" ]
}
exec 3<"$BFS_MNT/r.bin"
t_ok "a held descriptor is an open file" wait_for 30 open_files_is 1
exec 3<&-
t_ok "and is gone once closed" wait_for 30 open_files_is 0

# staged bytes: 1 MiB written to a descriptor held open is staged, and
# leaves the gauge once the close has uploaded it
staged_is()
{
	[ "$(m bucketfs_staged_files)" = "$1" ] &&
		[ "$(m bucketfs_staged_bytes)" = "$2" ]
}
# (head's own close of its copy of the descriptor is a flush: the data
# is uploaded then, and stays staged while this shell holds the file)
up1=$(m bucketfs_uploads_total)
exec 5>"$BFS_MNT/staged.bin"
head -c 1048576 "$W/w.bin" >&5
t_ok "1 MiB written and held open is one staged file of 1 MiB" \
	wait_for 30 staged_is 1 1048576
t_ok "its flush is counted as an upload" \
	at_least $((up1 + 1)) bucketfs_uploads_total
exec 5>&-
t_ok "the last close releases it: the gauges are back at zero" \
	wait_for 30 staged_is 0 0

# the endpoint's bounds: one path, two methods, a bounded request; a
# flood of idle connections never delays the filesystem
code()
{
	curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$@"
}
t_is "another path is 404" "$(code "${URL%/metrics}/")" 404
t_is "POST is 405" "$(code -X POST "$URL")" 405
t_is "HEAD is 200" "$(code -I "$URL")" 200
t_is "a 32 KiB header is refused (431)" \
	"$(code -H "X-Big: $(head -c 32768 /dev/zero | tr '\0' a)" "$URL")" 431
cat >"$W/flood.py" <<'PY'
import socket, subprocess, sys
host, port = sys.argv[1].split("//")[1].split("/")[0].rsplit(":", 1)
# 40 idle connections: 8 accepted, the rest in the backlog or refused
# (non-blocking connects: a full backlog must not stall this script)
conns = []
for _ in range(40):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex((host, int(port)))
    conns.append(c)
# meanwhile the mount writes and reads a file
r = subprocess.run(["sh", "-c", 'echo flood >"$0/flood.txt" && cat "$0/flood.txt"',
                    sys.argv[2]], capture_output=True, timeout=120)
print(r.stdout.decode().strip())
for c in conns:
    c.close()
PY
t_is "the mount writes and reads while 40 idle connections are held" \
	"$(python3 "$W/flood.py" "$URL" "$BFS_MNT" 2>&1)" flood
t_ok "and /metrics answers once they are gone" wait_for 60 scrape

# requests_total and the histogram are counted one after the other: a
# request in flight (a prefetch of gone.bin) may be in one and not yet
# in the other, so the check waits for a quiet moment
valid()
{
	scrape && python3 "$W/check.py" "$W/cur.prom" >"$W/check.out" 2>&1
}
if wait_for 60 valid; then
	_t_result 0 "the text is valid Prometheus exposition"
else
	_t_result 1 "the text is valid Prometheus exposition"
	t_diag_file "$W/check.out"
fi

"$BFS_BIN" stats "$BFS_MNT" >"$W/human" 2>&1
t_is "stats prints a summary" "$?" 0
t_ok "with a GET row of the bucket" \
	grep -Eq "^$B +GET +[1-9][0-9]* " "$W/human"
t_ok "and its block cache hit ratio" \
	grep -Eq "^$B +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+% +[0-9.]+% *$" "$W/human"
t_fails_with "stats of a directory that is no mount" \
	"not the root of a bucketfs mount" "$BFS_BIN" stats "$W"
mkdir -p "$BFS_MNT/sub"
t_fails_with "stats of a directory inside the mount" \
	"not the root of a bucketfs mount" "$BFS_BIN" stats "$BFS_MNT/sub"
t_ok "the metrics xattr is not listed" \
	sh -c "! getfattr -d -m - '$BFS_MNT' 2>/dev/null | grep -q metrics"

t_ok "unmount" bfs_umount

# the unix socket form
SOCK=$W/metrics.sock
bfs_mount "$BFS_BUCKET" -o "metrics=$SOCK" ||
	t_abort "mount with metrics on a unix socket"
URL=http://localhost/metrics
scrape()
{
	curl -sf --max-time 30 --unix-socket "$SOCK" -o "$W/cur.prom" "$URL"
}
t_ok "the socket is served" wait_for 30 scrape
t_is "the socket is 0666 (its directory decides who reaches it)" \
	"$(stat -c %a "$SOCK")" 666
puts2=$(m bucketfs_requests_total bucket="$B" op="PUT|MPU-PART" status=ok)
up2=$(m bucketfs_uploads_total)
t_ok "write a file through the mount" cp "$W/w.bin" "$BFS_MNT/sock.bin"
t_ok "the socket shows its PUT" \
	at_least $((puts2 + 1)) bucketfs_requests_total bucket="$B" \
	op="PUT|MPU-PART" status=ok
t_ok "and its upload" at_least $((up2 + 1)) bucketfs_uploads_total
MNT1=$BFS_MNT
BFS_MNT=$W/mnt2
mkdir -p "$W/mnt2"
t_fails_with "a second mount cannot take a socket that is served" \
	"another process serves that socket" \
	"$BFS_BIN" mount --config "$BFS_CONF" -o "metrics=$SOCK" \
	"$BFS_BUCKET" "$W/mnt2"
BFS_MNT=$MNT1
t_ok "unmount" bfs_umount
t_ok "the socket is removed at exit" test ! -e "$SOCK"

t_plan_done
