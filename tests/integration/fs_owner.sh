#!/usr/bin/env bash
# fs_owner.sh - a new file, directory or link gets its creator's mode
# (less umask) and owner on an allow_other,default_permissions mount, as
# root and as an unprivileged user, and keeps them across a remount
# (doc/SEMANTICS.md "Owner and mode of new files"). Runs on the store
# named by BFS_TEST_STORE.
. "$(dirname "$0")/../lib.sh"

py() { python3 -c "$@"; }

bfs_mount_shared || t_abort "mount with allow_other,default_permissions"
B=$BFS_B

# root, umask 077: a private file and directory stay private
t_ok "root creates a 0600 file and a 0700 directory under umask 077" \
	sh -c "umask 077; cd '$B' && python3 -c \"import os; fd=os.open('priv', os.O_CREAT|os.O_WRONLY, 0o666); os.write(fd, b'secret'); os.close(fd); os.mkdir('pdir', 0o777)\""
t_is "the file is 600 root:root" "$(stat -c '%a %u %g' "$B/priv")" "600 0 0"
t_is "the directory is 700 root:root" "$(stat -c '%a %u %g' "$B/pdir")" "700 0 0"
t_fails_with "nobody cannot read root's private file" "Permission denied" \
	as_nobody cat "$B/priv"
t_fails_with "nobody cannot list root's private directory" "Permission denied" \
	as_nobody ls "$B/pdir"
t_ok "root creates a 0644 file under umask 022" \
	sh -c "umask 022; echo pub > '$B/pub'"
t_is "it is 644" "$(stat -c '%a' "$B/pub")" 644

# an unprivileged user owns what it creates and can change it
mkdir "$B/shared"
chmod 777 "$B/shared"
t_ok "nobody creates a file" as_nobody sh -c "umask 022; echo hi > '$B/shared/x'"
t_is "nobody owns it, 644" "$(stat -c '%a %u %g' "$B/shared/x")" "644 65534 65534"
t_ok "nobody makes a directory" as_nobody sh -c "umask 027; mkdir '$B/shared/nd'"
t_is "nobody owns the directory, 750" "$(stat -c '%a %u %g' "$B/shared/nd")" "750 65534 65534"
t_ok "nobody chmods its own file" as_nobody chmod 600 "$B/shared/x"
t_ok "nobody truncates its own file" as_nobody truncate -s 0 "$B/shared/x"
t_ok "nobody writes its own file again" as_nobody sh -c "echo again >> '$B/shared/x'"
t_is "nobody reads its own 600 file" "$(as_nobody cat "$B/shared/x" 2>&1)" again
t_ok "nobody makes a symlink" as_nobody ln -s x "$B/shared/lnk"
t_is "nobody owns the link" "$(stat -c '%u %g' "$B/shared/lnk")" "65534 65534"
t_fails_with "nobody cannot chmod root's file" "Operation not permitted" \
	as_nobody chmod 666 "$B/pub"

# a setgid directory gives its group to new entries, and its bit to
# new directories
mkdir "$B/sg"
chown 0:4242 "$B/sg"
chmod 2777 "$B/sg"
t_ok "nobody creates in a setgid directory" as_nobody sh -c "echo g > '$B/sg/f' && mkdir '$B/sg/d'"
t_is "the file gets the directory's group" "$(stat -c '%u %g' "$B/sg/f")" "65534 4242"
t_is "the subdirectory gets its group and setgid bit" "$(stat -c '%u %g %a' "$B/sg/d")" "65534 4242 2755"

# setuid/setgid are dropped when an unprivileged user writes or
# truncates a file and on any chown, as Linux filesystems do (checked
# after the remount below: what the object stores)
for f in kw kt kc; do
	echo data >"$B/shared/$f"
	chmod 6777 "$B/shared/$f"
done
t_is "root made a 6777 file" "$(stat -c %a "$B/shared/kw")" 6777
t_ok "nobody writes a setuid file" as_nobody sh -c "echo more >> '$B/shared/kw'"
t_ok "nobody truncates a setuid file" as_nobody truncate -s 1 "$B/shared/kt"
t_ok "root chowns a setuid file" chown 65534:65534 "$B/shared/kc"

# chown and chmod rules of Linux, which the kernel applies under
# default_permissions: only root gives a file away, an owner may change
# the group only to one of its own, a chmod g+s by an owner outside the
# group drops the bit, a sticky directory keeps others' files
t_fails_with "nobody cannot give its file to root" "Operation not permitted" \
	as_nobody chown 0 "$B/shared/x"
t_fails_with "nobody cannot give its file a group it is not in" "Operation not permitted" \
	as_nobody chgrp 4242 "$B/shared/x"
t_fails_with "nobody cannot chown root's file" "Operation not permitted" \
	as_nobody chown 65534 "$B/pub"
t_is "the owners are unchanged" "$(stat -c '%u %g' "$B/shared/x") $(stat -c '%u %g' "$B/pub")" \
	"65534 65534 0 0"
echo g >"$B/shared/gx"
chown 65534:4242 "$B/shared/gx"
t_ok "nobody chmods g+s its file of a group it is not in" as_nobody chmod 2755 "$B/shared/gx"
t_is "the setgid bit was dropped" "$(stat -c %a "$B/shared/gx")" 755
mkdir "$B/sticky"
chmod 1777 "$B/sticky"
echo r >"$B/sticky/rootf"
chmod 666 "$B/sticky/rootf"
t_ok "nobody creates in a sticky directory" as_nobody sh -c "echo n > '$B/sticky/nf'"
t_fails_with "nobody cannot remove root's file in a sticky directory" "Operation not permitted" \
	as_nobody rm -f "$B/sticky/rootf"
t_fails_with "nobody cannot rename root's file in a sticky directory" "Operation not permitted" \
	as_nobody mv "$B/sticky/rootf" "$B/sticky/mine"
t_ok "nobody removes its own file in a sticky directory" as_nobody rm "$B/sticky/nf"
t_is "root's file is still there" "$(cat "$B/sticky/rootf")" r
t_ok "root removes it" rm "$B/sticky/rootf"

# remount: the metadata was stored, not only kept in memory
t_ok "unmount" bfs_umount
bfs_mount_shared || t_abort "mount again"
B=$BFS_B
t_is "after remount: the private file" "$(stat -c '%a %u %g' "$B/priv")" "600 0 0"
t_is "after remount: the private directory" "$(stat -c '%a %u %g' "$B/pdir")" "700 0 0"
t_is "after remount: ls -l agrees" "$(ls -ln "$B" | awk '$NF=="pdir"{print $1, $3, $4}')" "drwx------ 0 0"
t_is "after remount: nobody's file" "$(stat -c '%a %u %g' "$B/shared/x")" "600 65534 65534"
t_is "after remount: nobody's directory" "$(stat -c '%a %u %g' "$B/shared/nd")" "750 65534 65534"
t_is "after remount: the setgid subdirectory" "$(stat -c '%u %g %a' "$B/sg/d")" "65534 4242 2755"
t_is "after remount: a write by nobody dropped setuid/setgid" "$(stat -c %a "$B/shared/kw")" 777
t_is "after remount: a truncate by nobody dropped them" "$(stat -c %a "$B/shared/kt")" 777
t_is "after remount: chown dropped them" "$(stat -c '%a %u' "$B/shared/kc")" "777 65534"
t_fails_with "after remount: nobody still cannot read the private file" "Permission denied" \
	as_nobody cat "$B/priv"
t_is "after remount: the sticky directory" "$(stat -c %a "$B/sticky")" 1777
# the mount point has no object: this mount keeps its mode and owner
t_ok "chmod of the lake's mount point" chmod 551 "$BFS_MNT"
t_is "the lake's mount point shows it (read-only: no w bits)" "$(stat -c %a "$BFS_MNT")" 551
t_ok "unmount" bfs_umount
bfs_mount_shared "$BFS_BUCKET" || t_abort "mount the bucket as the root"
t_ok "chmod of the mount point (a bucket's root)" chmod 750 "$BFS_MNT"
t_ok "chown of the mount point" chown 65534:65534 "$BFS_MNT"
t_is "the mount point shows them" "$(stat -c '%a %u %g' "$BFS_MNT")" "750 65534 65534"
t_fails_with "nobody cannot chown the mount point to root" "Operation not permitted" \
	as_nobody chown 0 "$BFS_MNT"
t_ok "unmount" bfs_umount
t_plan_done
