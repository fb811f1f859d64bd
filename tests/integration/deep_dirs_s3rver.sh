#!/usr/bin/env bash
# deep_dirs_s3rver.sh - directories that hold only deeper directories,
# written by another client (curl: s3rver takes any signature), seen
# through a mount of s3rver. s3rver leaves out the common prefix of such
# a name when it is listed with a delimiter ("a/b/c" with prefix "a" and
# delimiter "/" gives nothing), which once made lookups of "a" fail.
BFS_TEST_STORE=s3rver
. "$(dirname "$0")/../lib.sh"

bfs_store_setup || t_abort "s3rver and a bucket for the test"
bucket=$(awk '/^bucket = / { print $3 }' "$BFS_CONF")
put()
{
	curl -sf -X PUT --data-binary "$2" "$STORE_URL/$bucket/$1" >/dev/null
}
seed()
{
	put deep/x/y "deep file" && put deep/x/z/w "deeper file" &&
		put top.txt "top" && put deep.txt "a sibling of deep"
}
t_ok "another client writes deep/x/y, deep/x/z/w, deep.txt" seed

bfs_mount "$BFS_BUCKET" || t_abort "mount s3rver"
B=$BFS_B
t_ok "deep is a directory" test -d "$B/deep"
t_is "... holding x" "$(ls "$B/deep")" x
t_is "deep/x holds y and z" "$(ls "$B/deep/x" | tr '\n' ' ')" "y z "
t_is "deep/x/y reads" "$(cat "$B/deep/x/y")" "deep file"
t_is "deep/x/z/w reads" "$(cat "$B/deep/x/z/w")" "deeper file"
t_is "the sibling deep.txt is a file" "$(cat "$B/deep.txt")" "a sibling of deep"
t_fails "deep/none does not exist" test -e "$B/deep/none"
t_ok "a file created in deep/x/z through the mount" sh -c "echo new > '$B/deep/x/z/new'"
t_is "... reads back" "$(cat "$B/deep/x/z/new")" new
t_ok "unmount" bfs_umount
t_plan_done
