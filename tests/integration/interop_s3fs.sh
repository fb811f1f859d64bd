#!/usr/bin/env bash
# interop_s3fs.sh - one bucket on Ceph RGW mounted by bucketfs and by s3fs
# (Debian's) at once: mode, owner, mtime, symlinks and xattrs written by
# one are read by the other, in both directions, with the same content.
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

bfs_mount || t_abort "mount the RGW bucket with bucketfs"
B=$BFS_B
bucket=$(sed -n 's/^bucket = //p' "$BFS_CONF" | tail -1)
S3FS_MNT=$W/s3fs
mkdir -p "$S3FS_MNT"
printf '%s:%s\n' "$STORE_ACCESS" "$STORE_SECRET" >"$W/passwd"
chmod 600 "$W/passwd"
s3fs "$bucket" "$S3FS_MNT" -o "url=$STORE_URL,use_path_request_style,passwd_file=$W/passwd,stat_cache_expire=1,use_xattr" \
	>"$W/s3fs.log" 2>&1 || t_abort "s3fs did not mount"
_t_stop+=("fusermount3 -u '$S3FS_MNT' 2>/dev/null")
wait_for 50 is_mounted "$S3FS_MNT"

# bucketfs writes, s3fs reads
echo "from bucketfs" >"$B/b.txt"
chmod 640 "$B/b.txt"
chown 1234:5678 "$B/b.txt"
touch -m -d "2020-02-03 04:05:06 UTC" "$B/b.txt"
ln -s b.txt "$B/b.link"
setfattr -n user.origin -v bucketfs "$B/b.txt"
t_is "s3fs reads bucketfs's content" "$(cat "$S3FS_MNT/b.txt" 2>&1)" "from bucketfs"
t_is "s3fs sees bucketfs's mode, owner and mtime" \
	"$(stat -c '%a %u %g %Y' "$S3FS_MNT/b.txt" 2>&1)" "640 1234 5678 1580702706"
t_is "s3fs sees bucketfs's symlink" "$(readlink "$S3FS_MNT/b.link" 2>&1)" b.txt
t_is "s3fs sees bucketfs's xattr" \
	"$(getfattr --absolute-names --only-values -n user.origin "$S3FS_MNT/b.txt" 2>&1)" bucketfs

# s3fs writes, bucketfs reads
echo "from s3fs" >"$S3FS_MNT/s.txt"
chmod 604 "$S3FS_MNT/s.txt"
chown 4321:8765 "$S3FS_MNT/s.txt"
touch -m -d "2019-01-02 03:04:05 UTC" "$S3FS_MNT/s.txt"
ln -s s.txt "$S3FS_MNT/s.link"
setfattr -n user.origin -v s3fs "$S3FS_MNT/s.txt"
mkdir "$S3FS_MNT/sdir"
# s3fs's calls are done (each wrote the object); wait until bucketfs
# shows the last of them, past anything it cached (attr_ttl), bounded
s3fs_seen()
{
	[ "$(stat -c '%a %u %g' "$B/s.txt")" = "604 4321 8765" ] &&
		[ -L "$B/s.link" ] && [ -d "$B/sdir" ] &&
		[ "$(getfattr --absolute-names --only-values -n user.origin "$B/s.txt")" = s3fs ]
}
wait_for 30 s3fs_seen || t_diag "bucketfs did not show all of s3fs's changes within 30 s"
t_is "bucketfs reads s3fs's content" "$(cat "$B/s.txt" 2>&1)" "from s3fs"
# (s3fs 1.90 itself keeps the time of its own last change rather than
# the one touch -d set: compare with what s3fs reports)
t_is "bucketfs sees s3fs's mode, owner and mtime, as s3fs does" \
	"$(stat -c '%a %u %g %Y' "$B/s.txt" 2>&1)" \
	"$(stat -c '%a %u %g %Y' "$S3FS_MNT/s.txt" 2>&1)"
t_is "s3fs's mode and owner are the ones set" \
	"$(stat -c '%a %u %g' "$B/s.txt" 2>&1)" "604 4321 8765"
t_is "ls -l agrees with stat on s3fs's file" \
	"$(ls -ln "$B/s.txt" | awk '{print $1, $3, $4}')" "-rw----r-- 4321 8765"
t_is "bucketfs sees s3fs's symlink" "$(readlink "$B/s.link" 2>&1)" s.txt
t_is "bucketfs sees s3fs's xattr" \
	"$(getfattr --absolute-names --only-values -n user.origin "$B/s.txt" 2>&1)" s3fs
t_ok "bucketfs sees s3fs's directory" test -d "$B/sdir"
fusermount3 -u "$S3FS_MNT"
t_ok "unmount" bfs_umount
t_plan_done
