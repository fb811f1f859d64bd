#!/usr/bin/env bash
# cli_errors.sh - bad input to `bucketfs mount` and damaged data in the
# builtin bucket. Each bad mount must print exactly one clear error line
# (naming the cause), exit non-zero, and leave nothing mounted and no
# process behind; a damaged object gives EIO for that file only and a log
# line that names it. Always on the builtin store.
. "$(dirname "$0")/../lib.sh"

BFS_TEST_STORE=builtin
bfs_store_setup || t_abort "write a configuration"
M=$W/target
C=$BFS_CONF

# mount_fails NAME TEXT MOUNTPOINT ARGS...: `bucketfs ARGS...` must exit
# non-zero within 30 s with one line on stderr containing TEXT, nothing on
# stdout, MOUNTPOINT not mounted and no bucketfs process naming it
mount_fails()
{
	local name=$1 text=$2 mp=$3 st lines
	shift 3
	timeout 30 "$BFS_BIN" "$@" >"$W/out" 2>"$W/err"
	st=$?
	lines=$(wc -l <"$W/err")
	if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && [ "$lines" -eq 1 ] &&
		[ ! -s "$W/out" ] && grep -qF -- "$text" "$W/err"; then
		_t_result 0 "$name"
	else
		_t_result 1 "$name"
		t_diag "bucketfs $* -> exit $st, $lines stderr lines, wanted one with '$text'"
		t_diag_file "$W/err"
		t_diag_file "$W/out"
	fi
	if is_mounted "$mp"; then
		_t_result 1 "$name: nothing left mounted"
		fusermount3 -u "$mp"
	fi
	if [ -n "$(_t_daemon_pid "$mp")" ]; then
		_t_result 1 "$name: no process left behind"
		kill "$(_t_daemon_pid "$mp")"
	fi
}

t_ok "bucketfs --version" "$BFS_BIN" --version
t_ok "bucketfs --help" "$BFS_BIN" --help
mount_fails "no mountpoint given" "missing mountpoint" "$M" mount --config "$C"
mount_fails "unknown command" "unknown command" "$M" --frobnicate

mount_fails "mount on a missing path" "No such file or directory" "$M" \
	mount --config "$C" "$M"
mkdir -p "$M"
echo x >"$M/file"
mount_fails "mount on a non-empty directory" "not empty" "$M" \
	mount --config "$C" "$M"
t_ok "the non-empty directory keeps its file" test -f "$M/file"
mount_fails "mount on a file" "Not a directory" "$M/file" \
	mount --config "$C" "$M/file"
rm -f "$M/file"
mount_fails "mount of an unknown bucket name" "unknown bucket" "$M" \
	mount --config "$C" nosuchbucket "$M"
mount_fails "mount.fuse3 form with an unknown bucket name" "unknown bucket" \
	"$M" nosuchbucket "$M" -o "config=$C"
mount_fails "a missing config file" "cannot open config file" "$M" \
	mount --config "$W/missing.conf" "$M"
printf '[bucketfs]\nbuiltin_dir = %s\nno_such_key = 1\n' "$W/builtin" \
	>"$W/bad.conf"
mount_fails "an unknown config key names file:line" "bad.conf:3" "$M" \
	mount --config "$W/bad.conf" "$M"
mount_fails "a bad -o value" "log_level" "$M" \
	mount --config "$C" -o log_level=loud "$M"
mount_fails "an unknown option" "unknown option" "$M" \
	mount --config "$C" --bogus "$M"
printf '[bucket x]\nprovider = nosuch\n' >"$W/badprov.conf"
mount_fails "a config that names an unknown provider" "provider" "$M" \
	mount --config "$W/badprov.conf" "$M"
t_fails "the target is still an empty, unmounted directory" is_mounted "$M"

# the foreground form reports the error too, and exits
timeout 30 "$BFS_BIN" mount --config "$C" -f nosuchbucket "$M" >"$W/out" 2>"$W/err"
st=$?
t_ok "-f with an unknown bucket exits non-zero" test "$st" -ne 0 -a "$st" -ne 124
t_ok "-f with an unknown bucket says why" grep -q "unknown bucket" "$W/err"

# a damaged object in the builtin bucket: EIO for that file only
bfs_mount || t_abort "mount the lake"
B=$BFS_B
echo good >"$B/good"
echo "will be damaged" >"$B/bad"
echo "damaged too" >"$B/bad2"
t_ok "unmount" bfs_umount
obj=$W/builtin/.bucketfs/objects
t_ok "the local store keeps one file per object (doc/internals/local-store.md)" \
	test -f "$obj/bad%o" -a -f "$obj/bad2%o"
# a byte of the checksummed header (its key) and one of the content size
printf '\377' | dd of="$obj/bad%o" bs=1 seek=50 conv=notrunc status=none
printf '\377' | dd of="$obj/bad2%o" bs=1 seek=17 conv=notrunc status=none
bfs_log_expect "damaged entry 'objects/bad2?%o'"
bfs_mount || t_abort "mount the lake with a damaged object"
B=$BFS_B
t_fails_with "reading a damaged object fails EIO" "Input/output error" \
	cat "$B/bad"
t_fails_with "stat of a damaged object fails EIO" "Input/output error" \
	stat "$B/bad"
t_fails_with "a damaged size field is caught too" "Input/output error" \
	cat "$B/bad2"
t_is "other files read fine" "$(cat "$B/good")" good
t_ok "ls of the directory works" ls -l "$B"
t_ok "new files can be written" sh -c "echo new > '$B/new' && cat '$B/new'"
t_ok "the log names the damaged entry" \
	grep -q "damaged entry 'objects/bad%o'" "$BFS_LOG"
t_ok "rm of a damaged file repairs the bucket" rm "$B/bad"
t_fails_with "and the name is free" "No such file or directory" stat "$B/bad"
t_ok "overwriting a damaged file repairs it" \
	sh -c "echo fixed > '$B/bad2'"
t_is "the overwritten file reads back" "$(cat "$B/bad2" 2>&1)" fixed
t_ok "unmount" bfs_umount

# a damaged store: its format file says something else
echo "garbage" >"$W/builtin/.bucketfs/format"
mount_fails "a builtin dir with an unknown format" "format" "$M" \
	mount --config "$C" "$M"
printf 'bucketfs-local 1\n' >"$W/builtin/.bucketfs/format"
t_ok "with the format file repaired it mounts again" bfs_mount
t_is "and serves the good file" "$(cat "$BFS_B/good" 2>&1)" good

t_plan_done
