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
t_plan_done
