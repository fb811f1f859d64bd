#!/usr/bin/env bash
# ops_cli.sh - what an operator meets first: a relative mount point, a
# daemon that fails after it forked (its cause on the terminal and in
# its log file), an unknown -o option named, --help of every command,
# and the man page bucketfs(8) generated from the same table as --help.
# Always on the builtin store.
. "$(dirname "$0")/../lib.sh"

BFS_TEST_STORE=builtin
bfs_store_setup || t_abort "write a configuration"
C=$BFS_CONF
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# --help: every command, its own --help, the man page
"$BFS_BIN" --help >"$W/help" 2>&1
for cmd in mount bucket catalog key cache recover; do
	t_ok "bucketfs --help lists '$cmd'" grep -q "bucketfs $cmd" "$W/help"
	"$BFS_BIN" "$cmd" --help >"$W/h.$cmd" 2>&1
	t_is "bucketfs $cmd --help exits 0" "$?" 0
	t_ok "bucketfs $cmd --help shows its usage" \
		grep -q "^  bucketfs $cmd" "$W/h.$cmd"
	t_ok "bucketfs $cmd --help is documented in bucketfs(8)" \
		grep -q "^\.SS $cmd\$" "$SRC/doc/bucketfs.8"
done
t_ok "bucketfs bucket connect --help works too" \
	"$BFS_BIN" bucket connect --help
"$BFS_BIN" help --man >"$W/man"
t_ok "doc/bucketfs.8 is up to date ('bucketfs help --man >doc/bucketfs.8')" \
	cmp -s "$W/man" "$SRC/doc/bucketfs.8"
# every option --help names appears in the man page
opts=$(grep -oE '^    (-[a-z]|--[a-z-]+)' "$W/help" | sort -u | tr -d ' ')
missing=
for o in $opts; do
	grep -qF -- "$(printf '%s' "$o" | sed 's/-/\\-/g')" "$SRC/doc/bucketfs.8" ||
		missing="$missing $o"
done
t_is "every command option of --help is in bucketfs(8)" "$missing" ""
missing=
for k in $(grep -oE '^  [a-z_]+=' "$W/help" | tr -d ' ='); do
	grep -q "^\.BI \"$(printf '%s' "$k" | sed 's/_/_/g') = " "$SRC/doc/bucketfs.8" ||
		missing="$missing $k"
done
t_is "every -o option of --help is in bucketfs(8)" "$missing" ""
if command -v man >/dev/null; then
	t_ok "man renders bucketfs(8) without warnings" \
		sh -c "MANWIDTH=80 man --warnings -l '$SRC/doc/bucketfs.8' 2>&1 >/dev/null | grep -q . && exit 1 || exit 0"
fi

# an unknown -o option is named, in the foreground, before any fork
mkdir -p "$W/m"
"$BFS_BIN" mount --config "$C" -o allow_other,frobnicate=3 builtin "$W/m" \
	>"$W/out" 2>&1
t_is "an unknown -o option fails the mount" "$?" 1
t_ok "and the error names it" grep -q "unknown option 'frobnicate=3'" "$W/out"
t_fails "nothing is mounted" is_mounted "$W/m"

# a relative mount point, mounted in the background
cd "$W" || t_abort "cd $W"
"$BFS_BIN" mount --config "$C" -o "log_file=$W/daemon.log" builtin m \
	>"$W/out" 2>&1
t_is "a relative mount point mounts in the background" "$?" 0
t_ok "on the directory it names" is_mounted "$W/m"
t_ok "and prints nothing" test ! -s "$W/out"
echo hello >"$W/m/f" 2>/dev/null
t_is "the mount works" "$(cat "$W/m/f" 2>&1)" hello
t_ok "the daemon logs to log_file=" grep -q "mounted 'builtin' on $W/m" \
	"$W/daemon.log"
pid=$(_t_daemon_pid "$W/m")
t_ok "unmount" fusermount3 -u "$W/m"
wait_for 30 sh -c "! kill -0 '$pid' 2>/dev/null"
t_ok "the daemon exits" sh -c "! kill -0 '$pid' 2>/dev/null"
cd / || t_abort "cd /"

# a failure after the fork: its cause is on the terminal and in the log
"$BFS_BIN" mount --config "$C" -o "log_file=$W/fail.log,cache_dir=/proc/nope" \
	builtin "$W/m" >"$W/out" 2>&1
t_is "a daemon that cannot start fails the mount command" "$?" 1
t_ok "the command prints the daemon's cause" \
	grep -q "cannot create cache dir '/proc/nope'" "$W/out"
t_ok "and the log file has it too" \
	grep -q "err: cannot create cache dir '/proc/nope'" "$W/fail.log"
t_fails "nothing is mounted" is_mounted "$W/m"
t_ok "a log file that cannot be opened is refused before the fork" \
	sh -c "! '$BFS_BIN' mount --config '$C' -o log_file=/proc/nope/x.log builtin '$W/m' 2>&1 | grep -q \"cannot open log file '/proc/nope/x.log'\" && exit 1 || exit 0"

# lost+found: an entry as the start after a crash leaves it
# (fs/recovery.c: <time>-<id>.data and its .key sidecar; the move itself
# is tested by kill9_recovery.sh)
LF=$W/cache/lost+found
mkdir -p "$LF"
head -c 100000 /dev/urandom >"$W/orig"
cp "$W/orig" "$LF/1700000000-7.data"
printf 'builtin\ndir/lost file\n' >"$LF/1700000000-7.key"
printf 'x' >"$LF/1700000001-8.data"
printf 'builtin\nother\n' >"$LF/1700000001-8.key"
"$BFS_BIN" recover list --config "$C" >"$W/list" 2>&1
t_is "recover list exits 0" "$?" 0
t_ok "recover list shows an entry with bucket, size and key" \
	grep -qE '^1700000000-7 +builtin +100000 .*dir/lost file$' "$W/list"
t_is "one line per entry, after a header" "$(wc -l <"$W/list")" 3
t_fails "restore over an existing file is refused" \
	"$BFS_BIN" recover restore 1700000000-7 "$W/list" --config "$C"
t_ok "and keeps the entry" test -f "$LF/1700000000-7.data"
t_ok "recover restore ID PATH" \
	"$BFS_BIN" recover restore 1700000000-7 "$W/restored" --config "$C"
t_ok "copies the data to PATH" cmp -s "$W/restored" "$W/orig"
t_fails "and drops the entry" test -e "$LF/1700000000-7.data"
t_fails "with its sidecar" test -e "$LF/1700000000-7.key"
t_ok "recover discard ID" "$BFS_BIN" recover discard 1700000001-8 --config "$C"
t_fails "drops the entry" test -e "$LF/1700000001-8.data"
t_fails_with "an unknown id is refused" "no entry" \
	"$BFS_BIN" recover discard 1700000001-8 --config "$C"
t_fails_with "an id with a slash is refused" "bad id" \
	"$BFS_BIN" recover discard ../x --config "$C"
"$BFS_BIN" recover list --config "$C" >"$W/list" 2>&1
t_ok "an empty lost+found says so" grep -q "lost+found is empty" "$W/list"

t_plan_done
