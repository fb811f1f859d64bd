#!/usr/bin/env bash
# live_config.sh - a running lake mount follows its configuration file:
# a bucket connected with `bucketfs bucket connect` and a catalog added
# with `bucketfs catalog add` appear under buckets/ and catalogs/ without
# a remount, removed ones disappear while a file opened in them reads on,
# and keys fixed with `bucketfs bucket update` are used by the running
# mount. The mount caches entries for 10 minutes (attr_ttl, neg_ttl), so
# only the daemon telling the kernel can make these changes visible.
. "$(dirname "$0")/../lib.sh"

BFS_TEST_STORE=rgw
bfs_store_setup || t_abort "RGW and a bucket"
bfs() { "$BFS_BIN" "$@" --config "$BFS_CONF"; }
# the keys on stdin, never in argv
keys() { printf '%s\n%s\n' "$STORE_ACCESS" "$STORE_SECRET"; }

B2=bfs-live-second-$$
s3_mkbucket "$STORE_URL" "$B2" || t_abort "create $B2"
echo order-1 >"$W/obj"
aws_store s3 cp "$W/obj" "s3://$B2/raw/orders/part-0.txt" >/dev/null ||
	t_abort "put an object into $B2"

bfs_mount -o attr_ttl=600,neg_ttl=600,dir_ttl=600 || t_abort "mount the lake"
M=$BFS_MNT
t_is "before: buckets/ holds builtin and rgw" \
	"$(ls "$M/buckets" | tr '\n' ' ')" "builtin rgw "
# the kernel keeps these answers for neg_ttl
t_fails "before: buckets/second does not exist" ls "$M/buckets/second"
t_fails "before: there is no catalogs/" ls "$M/catalogs"

# ---- a bucket connected while mounted
keys | bfs bucket connect second --provider custom --endpoint "$STORE_URL" \
	--bucket "$B2" --keys-from-stdin >"$W/connect.out" 2>&1 ||
	{ t_diag_file "$W/connect.out"; t_abort "bucket connect second"; }
t_ok "connect: the new bucket appears in the running mount" \
	wait_for 30 test -f "$M/buckets/second/raw/orders/part-0.txt"
t_is "connect: its file reads" \
	"$(cat "$M/buckets/second/raw/orders/part-0.txt")" order-1
t_is "connect: buckets/ lists it" \
	"$(ls "$M/buckets" | tr '\n' ' ')" "builtin rgw second "
echo written >"$M/buckets/second/new.txt"
t_is "connect: a file written into it is in the bucket" \
	"$(aws_store s3 cp "s3://$B2/new.txt" - 2>/dev/null)" written

# ---- a catalog added while mounted
bfs catalog add sales --type bucket-tables --bucket second >/dev/null &&
	bfs catalog table add sales orders 'raw/orders/' >/dev/null ||
	t_abort "catalog add sales"
t_ok "catalog add: catalogs/sales/orders appears" \
	wait_for 30 test -f "$M/catalogs/sales/orders/part-0.txt"
t_is "catalog add: its table's file reads" \
	"$(cat "$M/catalogs/sales/orders/part-0.txt")" order-1

# ---- removed while a file is open in it
exec 5<"$M/buckets/second/raw/orders/part-0.txt"
bfs catalog remove sales >/dev/null || t_abort "catalog remove sales"
t_ok "catalog remove: catalogs/sales disappears" \
	wait_for 30 test ! -e "$M/catalogs/sales"
t_ok "catalog remove: catalogs/ goes with its last catalog" \
	wait_for 30 test ! -e "$M/catalogs"
bfs bucket remove second >/dev/null || t_abort "bucket remove second"
t_ok "bucket remove: buckets/second disappears" \
	wait_for 30 test ! -e "$M/buckets/second"
t_is "bucket remove: buckets/ no longer lists it" \
	"$(ls "$M/buckets" | tr '\n' ' ')" "builtin rgw "
t_is "bucket remove: a file open in it reads on until closed" \
	"$(cat <&5)" order-1
exec 5<&-
t_is "the rest of the lake works throughout" \
	"$(ls "$M/buckets/rgw" >/dev/null && echo ok)" ok

# ---- keys fixed in place with `bucket update`, under a catalog
printf '%s\n%s\n' "$STORE_ACCESS" not-the-secret |
	bfs bucket connect third --provider custom --endpoint "$STORE_URL" \
		--bucket "$B2" --keys-from-stdin --no-test >/dev/null ||
	t_abort "bucket connect third (a wrong secret)"
bfs catalog add tp --type managed --bucket third --prefix raw/ >/dev/null ||
	t_abort "catalog add tp"
bfs_log_expect "s3:third: |bucket 'third'"
t_ok "a bucket with a wrong secret appears" \
	wait_for 30 test -d "$M/buckets/third"
t_fails_with "its wrong secret fails in its own directory" \
	"Permission denied" ls "$M/buckets/third/raw/orders"
t_fails_with "and in the catalog on it" \
	"Permission denied" ls "$M/catalogs/tp/orders"
keys | bfs bucket update third --keys-from-stdin >"$W/update.out" 2>&1 ||
	{ t_diag_file "$W/update.out"; t_abort "bucket update third"; }
t_ok "update: the running mount signs with the new keys" \
	wait_for 30 test -f "$M/buckets/third/raw/orders/part-0.txt"
t_is "update: the catalog on the bucket works across it" \
	"$(cat "$M/catalogs/tp/orders/part-0.txt")" order-1
printf '%s\n%s\n' "$STORE_ACCESS" not-the-secret |
	bfs bucket update third --keys-from-stdin >"$W/update2.out" 2>&1
rc=$?
t_is "update: wrong keys are refused by the test and not saved" \
	"$rc:$(cat "$M/catalogs/tp/orders/part-0.txt")" 1:order-1
t_ok "update: the refusal names the cause" \
	grep -q SignatureDoesNotMatch "$W/update2.out"

bfs_umount
t_plan_done
