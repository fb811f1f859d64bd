#!/usr/bin/env bash
# odd_keys.sh - keys another client wrote that are not plain paths, on
# Ceph RGW (written with the aws CLI), and what the mount shows for each
# (doc/SEMANTICS.md, "Keys and paths"): a key and a prefix of one name
# (the directory wins), a key ending in '/' with content (a directory; the
# content is not shown), empty and '..' segments and names over 255 bytes
# (skipped, logged once), spaces and unicode (shown as they are).
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

bfs_store_setup || t_abort "store setup"
bucket=$(sed -n 's/^bucket = //p' "$BFS_CONF" | tail -1)
long=$(printf 'L%.0s' $(seq 1 300))
put() {
	aws_store s3api put-object --bucket "$bucket" --key "$1" --body "$2" \
		>/dev/null 2>>"$W/aws.err"
}
echo file-a >"$W/a"
echo content >"$W/c"
put "a" "$W/a"
put "a/b" "$W/a"
put "withcontent/" "$W/c"
put "withcontent/inside" "$W/c"
put "x//y" "$W/c"
put "p/../q" "$W/c"
put "dir/$long" "$W/c"
put "dir/ok" "$W/c"
put "sp ace/ünï code" "$W/c"
t_ok "the aws CLI wrote the odd keys" test ! -s "$W/aws.err"

bfs_mount "$BFS_BUCKET" || t_abort "mount"
B=$BFS_B
bfs_log_expect "skipped"
t_ok "'a' and 'a/b': a is a directory" test -d "$B/a"
t_is "... holding b" "$(ls "$B/a")" b
t_ok "'withcontent/' with content is a directory" test -d "$B/withcontent"
t_is "... listing what is below it" "$(ls "$B/withcontent")" inside
t_is "'x//y': the empty segment is skipped" "$(ls -A "$B/x")" ""
t_is "'p/../q': the '..' segment is skipped" "$(ls -A "$B/p")" ""
t_is "a name over 255 bytes is skipped, the rest listed" "$(ls "$B/dir")" ok
t_ok "the skipped long name is logged" grep -q "name longer than 255 bytes" "$BFS_LOG"
t_is "spaces and unicode are shown as they are" "$(cat "$B/sp ace/ünï code")" content
t_ok "unmount" bfs_umount
t_plan_done
