#!/usr/bin/env bash
# fs_names.sh - names beyond ASCII (doc/SEMANTICS.md, "Keys and paths").
# Names mixing accents, CJK, U+FF01 and characters past U+FFFF list whole
# when the listing comes in many pages (three names a page). s3rver
# walks its keys in UTF-8 byte order but skips those "<=" the marker in
# JavaScript's UTF-16 order (a character past U+FFFF sorts before U+FF01
# there), so its paged listings of such names lose some: on s3rver the
# listing is one page. A name that is not valid UTF-8 cannot be an S3 key:
# creating one (file, directory, rename target) fails with EILSEQ and one
# log line, looking one up is ENOENT without asking the server, and no
# log line blames the server. Runs on the store named by BFS_TEST_STORE.
. "$(dirname "$0")/../lib.sh"

bfs_mount || t_abort "mount on the $BFS_TEST_STORE store"
B=$BFS_B
bfs_log_expect "not valid UTF-8"

# 3 x 3 x 3 names from pieces that sort differently in the two orders
names=()
for a in e "é" "中" "😀" "！" "�"; do
	for b in "😀" "！" "x"; do
		for c in "" "😀" "ｚ"; do
			names+=("$a$b$c")
		done
	done
done
mk_all()
{
	local n
	mkdir "$B/uni" || return 1
	for n in "${names[@]}"; do
		echo "$n" >"$B/uni/$n" || return 1
	done
}
t_ok "create ${#names[@]} files with mixed non-ASCII names" mk_all
want=$(printf '%s\n' "${names[@]}" | LC_ALL=C sort)

# a cold mount (no cache): the listing comes from the server
t_ok "unmount" bfs_umount
rm -rf "$W/cache" && mkdir -p "$W/cache"
page=3
[ "$BFS_TEST_STORE" = s3rver ] && page=1000
bfs_mount -o max_keys=$page,dir_ttl=0 || t_abort "remount, $page keys a page"
B=$BFS_B
t_is "they list whole, $page names a page" \
	"$(ls -1 "$B/uni" | LC_ALL=C sort)" "$want"
t_is "one of them reads back" "$(cat "$B/uni/😀！ｚ")" "😀！ｚ"
t_fails "no listing was refused" grep -q "refused" "$BFS_LOG"

# names that are not UTF-8
errno_of()
{
	python3 - "$@" <<'PY'
import errno, os, sys
op, a = sys.argv[1], os.fsencode(sys.argv[2])
b = os.fsencode(sys.argv[3]) if len(sys.argv) > 3 else None
try:
    if op == "create":
        os.close(os.open(a, os.O_CREAT | os.O_WRONLY, 0o644))
    elif op == "mkdir":
        os.mkdir(a)
    elif op == "rename":
        os.rename(a, b)
    elif op == "stat":
        os.stat(a)
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
PY
}
bad=$'bad\xff\xfe.txt'
echo x >"$B/good.txt"
t_is "creating a file named with bytes that are not UTF-8: EILSEQ" \
	"$(errno_of create "$B/$bad")" EILSEQ
t_is "... a directory: EILSEQ" "$(errno_of mkdir "$B/$bad.d")" EILSEQ
t_is "... renaming to such a name: EILSEQ" \
	"$(errno_of rename "$B/good.txt" "$B/$bad")" EILSEQ
t_is "... the file renamed is still there" "$(cat "$B/good.txt")" x
t_is "an overlong encoding of '/' (C0 AF) is not UTF-8 either" \
	"$(errno_of create "$B/"$'a\xc0\xafb')" EILSEQ
t_is "a UTF-16 surrogate in UTF-8 (ED A0 80) neither" \
	"$(errno_of create "$B/"$'a\xed\xa0\x80b')" EILSEQ
t_is "looking such a name up: ENOENT" "$(errno_of stat "$B/$bad")" ENOENT
t_ok "the log says the name is not UTF-8, showing its bytes" \
	grep -q "cannot create 'bad\\\\xff\\\\xfe.txt': the name is not valid UTF-8" "$BFS_LOG"
t_fails "no log line blames the server's XML" grep -qi "xml" "$BFS_LOG"
t_is "the directory holds only what was made" "$(ls "$B" | LC_ALL=C sort | tr '\n' ' ')" \
	"good.txt uni "

# a key holds at most 1024 bytes (S3's limit, kept on every store): four
# directories of 250-byte names leave room for a short name, not a long
# one (pjdfstest's */03.t build 4095-byte paths: doc/SEMANTICS.md)
# (a lookup sends its head along with its LIST, a GET of the first
# bytes (store.h, head_read); s3rver stores an object as a file whose
# name adds a suffix to the key's last segment, and answers 500 to a
# HEAD or GET of a 250-byte segment: the LIST still decides. The log
# line shows the key's first 200 bytes)
[ "$BFS_TEST_STORE" = s3rver ] &&
	bfs_log_expect "(HEAD|GET) '[a-d/]{200}': InternalError \\(HTTP 500\\)"
p=$B
for c in a b c d; do
	p=$p/$(printf "%0250d" 0 | tr 0 "$c")
done
t_ok "directories four deep with 250-byte names are made" mkdir -p "$p"
t_ok "a file whose key stays within 1024 bytes is made" sh -c "echo k > '$p/0123456789'"
t_is "a file whose key would pass 1024 bytes: ENAMETOOLONG" \
	"$(errno_of create "$p/$(printf "%030d" 0)")" ENAMETOOLONG
t_is "... a directory: ENAMETOOLONG" "$(errno_of mkdir "$p/$(printf "%030d" 1)")" ENAMETOOLONG
t_ok "unmount" bfs_umount
t_plan_done
