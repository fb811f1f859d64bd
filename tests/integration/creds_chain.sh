#!/usr/bin/env bash
# creds_chain.sh - credentials = chain and anonymous, as production uses
# them, against RGW: temporary keys from a fake IMDSv2, container
# credentials service and STS (tests/tools/fakeaws.py, which hands out
# RGW's keys with a session token and an expiry), refreshed while files
# are read; an anonymous mount of a public-read bucket; a lake with a
# bucket that has no credentials. No secret may appear in a daemon log,
# its argv or its /proc/PID/environ.
. "$(dirname "$0")/../lib.sh"
# an RGW of its own: the one tests/run shares comes with its keys in the
# environment (BFS_RGW_SECRET), which every daemon started here would
# inherit, and the checks below look for keys in the daemon's environment
unset BFS_RGW_URL BFS_RGW_ACCESS BFS_RGW_SECRET

BFS_TEST_STORE=rgw
bfs_store_setup || t_abort "RGW and a bucket"
B=$(awk -F' = ' '/^bucket = / { print $2 }' "$BFS_CONF")
CONF0=$W/base.conf
cp "$BFS_CONF" "$CONF0"

# the keys the fake services hand out, in a file (never argv)
printf '%s %s\n' "$STORE_ACCESS" "$STORE_SECRET" >"$W/keys"
printf 'container-token-%s\n' "$$" >"$W/ctoken"
printf 'web-identity-jwt-%s\n' "$$" >"$W/wtoken"
chmod 600 "$W/keys" "$W/ctoken" "$W/wtoken"
python3 "$BFS_SRCDIR/tests/tools/fakeaws.py" --keys "$W/keys" \
	--log "$W/fake.log" --lifetime 24 \
	--container-token-file "$W/ctoken" --web-token-file "$W/wtoken" \
	>"$W/fake.out" 2>"$W/fake.err" &
FAKE_PID=$!
_t_stop+=("kill $FAKE_PID 2>/dev/null; wait $FAKE_PID 2>/dev/null")
wait_for 30 grep -q PORT= "$W/fake.out" || t_abort "fakeaws.py did not start"
FAKE=http://127.0.0.1:$(sed -n 's/^PORT=//p' "$W/fake.out")

echo hello-from-rgw >"$W/obj"
aws_store s3 cp "$W/obj" "s3://$B/greeting.txt" >/dev/null ||
	t_abort "put an object with the aws CLI"

# a clean credential environment for each mount
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
export AWS_SHARED_CREDENTIALS_FILE=$W/aws-credentials
export AWS_CONFIG_FILE=$W/aws-config
: >"$AWS_SHARED_CREDENTIALS_FILE"
: >"$AWS_CONFIG_FILE"
export AWS_EC2_METADATA_DISABLED=true

# conf LINES...: the base config with the rgw bucket's extra lines, and
# a cold cache: a mount that finds its listing and file in the cache of
# the one before sends no request, so it would never need credentials
conf()
{
	cp "$CONF0" "$BFS_CONF"
	rm -rf "$W/cache"
	printf '%s\n' "$@" >>"$BFS_CONF"
}

# aws_keys ARGS...: the aws CLI with RGW's keys (the mounts below run
# with none in their environment)
aws_keys()
{
	AWS_ACCESS_KEY_ID=$STORE_ACCESS AWS_SECRET_ACCESS_KEY=$STORE_SECRET \
		aws_store "$@"
}

fake_count()
{
	local n
	n=$(grep -cx "$1" "$W/fake.log" 2>/dev/null)
	echo "${n:-0}"
}

# no_secret_in PID: the daemon's argv, environment and logs hold no key
no_secret_in()
{
	local pid=$1 what=$2 f
	if [ -z "$pid" ] || [ ! -r "/proc/$pid/environ" ]; then
		_t_result 1 "$what: the daemon runs"
		return
	fi
	for f in "/proc/$pid/environ" "/proc/$pid/cmdline" "$W"/daemon.*.log; do
		[ -f "$f" ] || continue
		if tr '\0' '\n' <"$f" | grep -qF -e "$STORE_SECRET" \
			-e "bfs-session-" -e "container-token-$$" \
			-e "web-identity-jwt-$$"; then
			_t_result 1 "$what: no secret in $f"
			return
		fi
	done
	_t_result 0 "$what: no secret in its argv, environment or log"
}

# ---- IMDSv2, and the refresh of keys that expire under load
conf "credentials = chain"
unset AWS_EC2_METADATA_DISABLED
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAKE
bfs_mount -o attr_ttl=0,neg_ttl=0 || t_abort "mount with IMDSv2 keys"
t_is "IMDSv2: a file reads with the instance role's temporary keys" \
	"$(cat "$BFS_B/greeting.txt")" hello-from-rgw
echo written >"$BFS_B/from-imds.txt"
t_is "IMDSv2: a file written through the mount is in the bucket" \
	"$(aws_keys s3 cp "s3://$B/from-imds.txt" - 2>/dev/null)" written
t_ok "IMDSv2: the fake handed out keys" [ "$(fake_count imds)" -ge 1 ]
no_secret_in "$BFS_PID" "IMDSv2"
# keys live 24 s and are refreshed once less than half is left: four
# readers go on while that happens, and none may fail
first=$(fake_count imds)
: >"$W/readfail"
readers=()
for r in 1 2 3 4; do
	(
		end=$((SECONDS + 90))
		while [ "$SECONDS" -lt "$end" ] &&
			[ "$(fake_count imds)" -le "$first" ]; do
			cmp -s "$W/obj" "$BFS_B/greeting.txt" ||
				echo "reader $r failed" >>"$W/readfail"
			ls "$BFS_B" >/dev/null || echo "ls $r failed" >>"$W/readfail"
		done
		# a few more reads with the new keys
		for i in 1 2 3; do
			cmp -s "$W/obj" "$BFS_B/greeting.txt" ||
				echo "reader $r failed after" >>"$W/readfail"
		done
	) &
	readers+=($!)
done
wait "${readers[@]}"
t_ok "refresh: new keys were fetched before the old ones expired" \
	[ "$(fake_count imds)" -gt "$first" ]
t_ok "refresh: no read failed while the keys changed" [ ! -s "$W/readfail" ]
t_diag_file "$W/readfail"
bfs_umount
unset AWS_EC2_METADATA_SERVICE_ENDPOINT
export AWS_EC2_METADATA_DISABLED=true

# ---- container credentials, with the authorization token file
conf "credentials = chain"
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKE/container
export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$W/ctoken
bfs_mount || t_abort "mount with container credentials"
t_is "container: a file reads with the container's keys" \
	"$(cat "$BFS_B/greeting.txt")" hello-from-rgw
t_ok "container: the fake checked the token" [ "$(fake_count container)" -ge 1 ]
bfs_umount
unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE

# ---- web identity through STS
conf "credentials = chain"
export AWS_WEB_IDENTITY_TOKEN_FILE=$W/wtoken
export AWS_ROLE_ARN=arn:aws:iam::123456789012:role/bfs
export AWS_ENDPOINT_URL_STS=$FAKE
bfs_mount || t_abort "mount with web identity"
t_is "web identity: a file reads with the assumed role's keys" \
	"$(cat "$BFS_B/greeting.txt")" hello-from-rgw
t_ok "web identity: STS AssumeRoleWithWebIdentity answered" \
	[ "$(fake_count "sts AssumeRoleWithWebIdentity")" -ge 1 ]
no_secret_in "$BFS_PID" "web identity"
bfs_umount
unset AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN

# ---- a profile with role_arn + source_profile: STS AssumeRole, signed
# with the source profile's keys
{
	echo "[base]"
	echo "aws_access_key_id = $STORE_ACCESS"
	echo "aws_secret_access_key = $STORE_SECRET"
} >"$AWS_SHARED_CREDENTIALS_FILE"
{
	echo "[profile analytics]"
	echo "role_arn = arn:aws:iam::123456789012:role/analytics"
	echo "source_profile = base"
	echo "region = us-east-1"
} >"$AWS_CONFIG_FILE"
conf "credentials = chain" "profile = analytics"
bfs_mount || t_abort "mount with an assumed role"
t_is "profile: role_arn + source_profile assume the role" \
	"$(cat "$BFS_B/greeting.txt")" hello-from-rgw
t_ok "profile: STS AssumeRole was signed with the source keys" \
	[ "$(fake_count "sts AssumeRole")" -ge 1 ]
bfs_umount
: >"$AWS_SHARED_CREDENTIALS_FILE"
: >"$AWS_CONFIG_FILE"
unset AWS_ENDPOINT_URL_STS
t_fails "the fake services refused nothing" grep -q refused "$W/fake.log"
t_diag_file "$W/fake.log"

# ---- anonymous: a public-read bucket, and no keys at all

PUB=$B-pub
s3_mkbucket "$STORE_URL" "$PUB" || t_abort "create $PUB"
aws_keys s3api put-bucket-acl --bucket "$PUB" --acl public-read >/dev/null ||
	t_abort "make $PUB public-read"
aws_keys s3api put-object --bucket "$PUB" --key open.txt --body "$W/obj" \
	--acl public-read >/dev/null || t_abort "put a public object"
cp "$CONF0" "$BFS_CONF"
{
	echo
	echo "[bucket public]"
	echo "provider = custom"
	echo "endpoint = $STORE_URL"
	echo "bucket = $PUB"
	echo "credentials = anonymous"
	echo
	echo "[bucket nokeys]"
	echo "provider = custom"
	echo "endpoint = $STORE_URL"
	echo "bucket = $B"
	echo "credentials = keys"
} >>"$BFS_CONF"
bfs_log_expect "bucket 'nokeys': no keys stored"
bfs_log_expect "bucket 'rgw': no credentials"
bfs_log_expect "cannot reach bucket '(nokeys|rgw)'"
bfs_log_expect "cannot list '': Permission denied"
bfs_mount -o ro || t_abort "mount the lake with a bucket that has no keys"
t_is "anonymous: a public-read object reads without keys" \
	"$(cat "$BFS_MNT/buckets/public/open.txt")" hello-from-rgw
t_fails_with "a bucket without keys fails in its own directory" \
	"Permission denied" ls "$BFS_MNT/buckets/nokeys/"
t_ok "the rest of the lake works beside it" \
	ls "$BFS_MNT/buckets/builtin"
t_ok "one log line names the cause and the fix" \
	grep -q "bucket 'nokeys': no keys stored.*bucketfs bucket connect nokeys" "$BFS_LOG"
bfs_umount

t_plan_done
