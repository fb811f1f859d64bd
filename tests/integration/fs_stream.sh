#!/usr/bin/env bash
# fs_stream.sh - large sequential writes go up as a multipart upload whose
# parts are sent while the writer is still writing; any other write
# pattern drops the stream and the file goes up whole. Both give exactly
# the bytes written. Runs on the store named by BFS_TEST_STORE.
. "$(dirname "$0")/../lib.sh"

bfs_mount -o multipart_threshold=5M,part_size=5M,debug=fs || t_abort "mount"
B=$BFS_B
L=$W/local
mkdir -p "$L"
rand_file "$L/seq" 23
t_ok "a 23 MiB sequential write" dd if="$L/seq" of="$B/seq" bs=1M status=none
t_ok "it went up streamed, parts while writing" \
	grep -q "'seq': streamed upload of 5 parts completed" "$BFS_LOG"
t_ok "streamed object reads back identical" cmp "$L/seq" "$B/seq"

# a stream begins with the file's metadata (completing a multipart upload
# cannot set any); what changed while it ran (cp -p's fchmod and futimens
# before its close) is set after it
python3 - "$L/seq" "$B/moded" "$B/changed" <<'PY'
import os, sys
data = open(sys.argv[1], "rb").read()
os.umask(0)
for path, mode in ((sys.argv[2], 0o640), (sys.argv[3], 0o644)):
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    for i in range(0, len(data), 1 << 20):
        os.write(fd, data[i:i + (1 << 20)])
    if path == sys.argv[3]:
        os.fchmod(fd, 0o600)
        os.utime(fd, (1612325106, 1612325106))
    os.close(fd)
PY
t_ok "a file made 0640 went up streamed" \
	grep -q "'moded': streamed upload of 5 parts completed" "$BFS_LOG"
t_ok "its metadata went with the upload's start" \
	bash -c "! grep -q \"'moded': metadata changed\" '$BFS_LOG'"
t_ok "a file chmodded and touched before its close went up streamed" \
	grep -q "'changed': streamed upload of 5 parts completed" "$BFS_LOG"
t_ok "its new metadata was set after the upload" \
	grep -q "'changed': metadata changed while streaming, set" "$BFS_LOG"

rand_file "$L/mixed" 12
python3 - "$L/mixed" "$B/mixed" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
with open(sys.argv[2], "wb") as f:
    f.write(data)                 # 12 MiB in order: a stream starts
    f.seek(100)
    f.write(b"rewritten")         # then a write before the end
data[100:109] = b"rewritten"
open(sys.argv[1], "wb").write(data)
PY
# a part being sent while the writer rewrites it may fail its checksum
# (then the stream is dropped all the same); s3rver has no abort
bfs_log_expect "XAmzContentSHA256Mismatch|BadDigest"
bfs_log_expect "of 'mixed' failed"
bfs_log_expect "MPU-ABORT 'mixed'"
t_ok "a write before the end drops the stream" \
	grep -q "'mixed': streamed upload dropped, uploading whole" "$BFS_LOG"
t_ok "that object reads back identical" cmp "$L/mixed" "$B/mixed"
t_ok "unmount" bfs_umount
bfs_mount || t_abort "mount again"
t_ok "after a remount too" cmp "$L/seq" "$BFS_B/seq"
t_ok "unmount" bfs_umount
# a cache of its own: the modes must come from the objects
cp "$BFS_CONF" "$W/fresh.conf"
sed -i "s|^cache_dir = .*|cache_dir = $W/fresh-cache|" "$W/fresh.conf"
BFS_CONF=$W/fresh.conf
bfs_mount || t_abort "mount with an empty cache"
t_is "the streamed file's mode is kept in the bucket" \
	"$(stat -c %a "$BFS_B/moded")" 640
t_is "the mode set before its close too" "$(stat -c %a "$BFS_B/changed")" 600
t_is "and the mtime set before its close" \
	"$(stat -c %Y "$BFS_B/changed")" 1612325106
t_ok "both read back identical" cmp "$L/seq" "$BFS_B/changed"
t_ok "unmount" bfs_umount
t_plan_done
