#!/usr/bin/env bash
# fs_special.sh - FIFOs, sockets, character and block devices made on an
# allow_other,default_permissions mount, as root and as an unprivileged
# user: stored as zero-byte objects with their type and device number in
# metadata (as s3fs does), a FIFO passes data as a local one, they keep
# their type across a remount; st_nlink is 0 for a file removed while
# open and 1 for a directory (doc/SEMANTICS.md "Special files and link
# counts"); a new object's Content-Type follows its name. Runs on the
# store named by BFS_TEST_STORE.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3

bfs_mount_shared || t_abort "mount with allow_other,default_permissions"
B=$BFS_B
mkdir "$B/s"
chmod 777 "$B/s"
S=$B/s

# root
t_ok "mkfifo -m 640" mkfifo -m 640 "$S/fifo"
t_is "it is a FIFO, 640, root's" "$(stat -c '%F %a %u %g %s' "$S/fifo")" "fifo 640 0 0 0"
timeout 60 sh -c "echo through the pipe > '$S/fifo'" &
writer=$!
t_is "a reader gets what a writer sends through the FIFO" \
	"$(timeout 60 cat "$S/fifo")" "through the pipe"
t_ok "the writer finished" wait "$writer"
t_ok "mknod c 1 3" mknod -m 600 "$S/chr" c 1 3
t_is "a character device 1,3" "$(stat -c '%F %t,%T %a' "$S/chr")" "character special file 1,3 600"
t_ok "mknod b 8 1" mknod "$S/blk" b 8 1
t_is "a block device 8,1" "$(stat -c '%F %t,%T' "$S/blk")" "block special file 8,1"
t_ok "bind a unix socket" sh -c "cd '$S' && $PY -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"sock\")'"
t_is "a socket" "$(stat -c %F "$S/sock")" "socket"
t_ok "chmod of a FIFO" chmod 604 "$S/fifo"
t_is "it stays a FIFO" "$(stat -c '%F %a' "$S/fifo")" "fifo 604"
t_is "ls -l agrees with stat" "$(ls -ln "$S" | awk '$NF=="fifo"{print $1}')" "prw----r--"
t_fails_with "mknod of an existing name fails EEXIST" "File exists" mkfifo "$S/fifo"

# an unprivileged user: FIFOs yes, devices no (the kernel's CAP_MKNOD)
t_ok "nobody makes a FIFO under umask 027" as_nobody sh -c "umask 027; mkfifo '$S/nfifo'"
t_is "nobody owns it, 640" "$(stat -c '%F %a %u %g' "$S/nfifo")" "fifo 640 65534 65534"
as_nobody timeout 60 sh -c "echo from nobody > '$S/nfifo'" &
writer=$!
t_is "nobody's FIFO passes data" "$(as_nobody timeout 60 cat "$S/nfifo")" "from nobody"
t_ok "the writer finished" wait "$writer"
t_fails_with "nobody cannot make a device" "Operation not permitted" \
	as_nobody mknod "$S/ndev" c 1 3
t_ok "nobody removes its FIFO" as_nobody rm "$S/nfifo"
t_fails "it is gone" test -e "$S/nfifo"

# link counts
echo data >"$S/open"
t_is "a file has one link" "$(stat -c %h "$S/open")" 1
t_is "a directory has nlink 1 (subdirectories not counted)" "$(stat -c %h "$S")" 1
t_is "a file removed while open has nlink 0" \
	"$($PY -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.unlink(sys.argv[1])
print(os.fstat(fd).st_nlink, os.read(fd, 4).decode())' "$S/open")" "0 data"
as_nobody sh -c "echo n > '$S/nopen'"
t_is "the same for nobody's file" \
	"$(as_nobody $PY -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.unlink(sys.argv[1])
print(os.fstat(fd).st_nlink)' "$S/nopen")" 0

# a new object's Content-Type comes from its name (/etc/mime.types), as
# s3fs gives it
ctype_of()
{
	local f
	if [ "$BFS_TEST_STORE" = builtin ]; then
		f=$(grep -rlaF -- "$1" "$W/builtin/.bucketfs/objects" | head -1)
		[ -n "$f" ] && grep -aoE '(text|application)/[a-z0-9.+-]+' "$f" | head -1
	else
		aws_store s3api head-object --bucket "$(sed -n 's/^bucket = //p' "$BFS_CONF" | tail -1)" \
			--key "$1" --query ContentType --output text
	fi
}
echo text >"$S/a.txt"
echo '{}' >"$S/c.JSON"
t_is "a .txt is stored as text/plain" "$(ctype_of s/a.txt)" text/plain
t_is "a .JSON is stored as application/json" "$(ctype_of s/c.JSON)" application/json

# remount: the type, mode, owner and device number were stored
t_ok "unmount" bfs_umount
bfs_mount_shared || t_abort "mount again"
S=$BFS_B/s
t_is "after remount: the FIFO" "$(stat -c '%F %a %u %g' "$S/fifo")" "fifo 604 0 0"
t_is "after remount: the character device" "$(stat -c '%F %t,%T %a' "$S/chr")" "character special file 1,3 600"
t_is "after remount: the block device" "$(stat -c '%F %t,%T' "$S/blk")" "block special file 8,1"
t_is "after remount: the socket" "$(stat -c %F "$S/sock")" "socket"
timeout 60 sh -c "echo again > '$S/fifo'" &
writer=$!
t_is "after remount: the FIFO passes data" "$(timeout 60 cat "$S/fifo")" "again"
t_ok "the writer finished" wait "$writer"
t_ok "rm of a device node" rm "$S/chr"
t_fails "it is gone" test -e "$S/chr"
t_ok "unmount" bfs_umount
t_plan_done
