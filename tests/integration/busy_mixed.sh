#!/usr/bin/env bash
# busy_mixed.sh - 16 threads of mixed work on one mount never wait behind
# two big transfers of other files (s3rver behind tests/tools/faultproxy.py,
# which also answers some of the small requests with 503s and resets):
# a 400 MiB file written at random offsets is being uploaded by its close,
# and a 400 MiB object is being staged by an open for writing, and the
# proxy holds one request of each until this script lets them go. While
# both are held, 16 threads open, read, write, stat, list and rename
# their own small files in the same directory; all of that must finish
# while the transfers are still held: a condition the proxy makes, not a
# timing margin (timeouts only bound a failure). The same mix is run
# idle first, and each kind of operation's latency idle and during the
# transfers is printed (a ratio, not asserted: the machine's load is no
# test's business).
BFS_TEST_STORE=s3rver
. "$(dirname "$0")/../lib.sh"

SIZE_MIB=400
bucket=bfs-busymixed-$$
store_start_s3rver "$bucket" || t_abort "s3rver starts"
bfs_faultproxy_start slow "$bucket" || t_abort "the fault proxy starts"

# the source of the staging download, put straight into the server
rand_file "$W/src" "$SIZE_MIB"
s3_curl PUT "$bucket/d/bigsrc" -T "$W/src" >/dev/null ||
	t_abort "put the 400 MiB source object"

# request and operation timeouts longer than the test: a held request
# is never abandoned and sent again around the hold
bfs_mount -o request_timeout=3600,op_timeout=3600 slow ||
	t_abort "mount through the proxy"
B=$BFS_B
t_is "the source object is seen" "$(stat -c %s "$B/d/bigsrc")" \
	$((SIZE_MIB * 1048576))

# mix.py DIR TAG OUT: 16 threads, each on its own file, 3 rounds of
# open + read, rewrite (open O_TRUNC, write, close: an upload), stat,
# listing of the directory, rename away and back. OUT gets "op seconds"
# lines; the exit status says whether every operation succeeded with
# the right data.
cat >"$W/mix.py" <<'PY'
import os, sys, threading, time
d, tag, out = sys.argv[1], sys.argv[2], sys.argv[3]
lat, errors, lock = [], [], threading.Lock()

def timed(op, fn):
    t0 = time.monotonic()
    r = fn()
    with lock:
        lat.append((op, time.monotonic() - t0))
    return r

def worker(i):
    try:
        f = "%s/%s%d" % (d, tag, i)
        g = f + ".moved"
        want = b"start %d\n" % i
        with open(f, "wb") as h:
            h.write(want)
        for r in range(3):
            got = timed("read", lambda: open(f, "rb").read())
            if got != want:
                raise Exception("%s holds %r, not %r" % (f, got, want))
            want = b"round %d of %d\n" % (r, i)
            def rewrite():
                with open(f, "wb") as h:
                    h.write(want)
            timed("write", rewrite)
            timed("stat", lambda: os.stat(f))
            names = timed("readdir", lambda: os.listdir(d))
            if os.path.basename(f) not in names:
                raise Exception("listing misses %s" % f)
            timed("rename", lambda: os.rename(f, g))
            timed("rename", lambda: os.rename(g, f))
    except Exception as e:
        with lock:
            errors.append("%d: %s" % (i, e))

ts = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out, "w") as h:
    for op, s in lat:
        h.write("%s %.6f\n" % (op, s))
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY

# stats FILE OP: "median max" of OP's latencies in FILE, in ms
stats()
{
	awk -v op="$2" '$1 == op { print $2 * 1000 }' "$1" | sort -n |
		awk '{ v[++n] = $1 } END { if (!n) print "- -";
			else printf "%.1f %.1f", v[int((n + 1) / 2)], v[n] }'
}

# s3rver answers 500 to a listing whose walk of its directory meets a
# file that a rename has just removed: logged, retried
bfs_log_expect "InternalError \(HTTP 500\)"
# s3rver has no AbortMultipartUpload (405), should a stream still start
bfs_log_expect "MPU-ABORT 'd/bigup'"

t_ok "idle: 16 threads of mixed work" \
	timeout -k 5 300 python3 "$W/mix.py" "$B/d" i "$W/idle.lat"

# the transfers: one part of the upload and the staging download's
# first GET are held; 503s and resets for some of the small files'
# requests
cat >"$control.tmp" <<CTL
1 hold 1 PUT:/d/bigup?
2 hold 1 GET:/d/bigsrc
3 slowdown 6 PUT:/d/m
4 reset 4 GET:/d/m
5 slowdown 4 GET:/$bucket?
CTL
mv "$control.tmp" "$control"
python3 - "$B/d/bigup" "$SIZE_MIB" >"$W/up.out" 2>&1 <<'PY' &
import os, random, sys
mib = 1 << 20
n = int(sys.argv[2])
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
# MiB 0 goes last: written first, it would start a streamed upload that
# the next out-of-order write drops, and whose abort s3rver refuses
order = list(range(1, n))
random.shuffle(order)
order.append(0)
for i in order:
    os.pwrite(fd, bytes([i % 251]) * mib, i * mib)
os.close(fd)
print("closed")
PY
up=$!
python3 - "$B/d/bigsrc" >"$W/stage.out" 2>&1 <<'PY' &
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
print("opened", os.pread(fd, 16, 0).hex())
os.close(fd)
PY
stage=$!
t_ok "the upload's part is held at the proxy" \
	wait_for 300 grep -q "PUT /$bucket/d/bigup?.*: hold" "$W/proxy.log"
t_ok "the staging download's GET is held at the proxy" \
	wait_for 300 grep -q "GET /$bucket/d/bigsrc.*: hold" "$W/proxy.log"

t_ok "during both transfers: 16 threads of mixed work, 503s and resets" \
	timeout -k 5 300 python3 "$W/mix.py" "$B/d" m "$W/busy.lat"
t_ok "all that while both transfers were still held" \
	sh -c "! grep -q ': released' '$W/proxy.log' && ! grep -q closed '$W/up.out' && ! grep -q opened '$W/stage.out'"
t_ok "the proxy answered faults to the small files' requests" \
	grep -qE "/d/m[0-9]+.*: (slowdown|reset)" "$W/proxy.log"
for op in read write stat readdir rename; do
	t_diag "$op: idle median/max $(stats "$W/idle.lat" $op) ms, during the transfers $(stats "$W/busy.lat" $op) ms"
done

touch "$control.release"
t_ok "the upload's close returns once released" wait_for 600 \
	grep -q closed "$W/up.out"
t_ok "the open for writing returns once released" wait_for 600 \
	grep -q opened "$W/stage.out"
wait "$up"
t_is "the close succeeded" "$?" 0
wait "$stage"
t_is "the open succeeded" "$?" 0
t_is "the staged file starts with the source's bytes" \
	"$(awk '{print $2}' "$W/stage.out")" "$(head -c 16 "$W/src" | od -An -tx1 | tr -d ' \n')"
t_is "the uploaded object has every MiB where it was written" \
	"$(s3_curl GET "$bucket/d/bigup" | sha256sum | cut -c1-64)" \
	"$(python3 -c 'import hashlib, sys
h = hashlib.sha256()
for i in range(int(sys.argv[1])):
    h.update(bytes([i % 251]) * (1 << 20))
print(h.hexdigest())' "$SIZE_MIB")"
t_ok "unmount" bfs_umount
t_plan_done
