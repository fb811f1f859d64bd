#!/usr/bin/env bash
# cli_guided.sh - `bucketfs bucket connect` without flags: on a terminal
# it asks for the provider (a menu), the name, the bucket, the provider's
# own fields and the keys (the id echoed, the secret not), tests the
# connection on RGW and saves; without a terminal it fails at once with one line that lists
# what a script must give. The terminal is a pseudo-terminal driven by
# tests/tools/pty_answer.py, which answers each prompt once it appears.
. "$(dirname "$0")/../lib.sh"

BFS_TEST_STORE=rgw
bfs_store_setup || t_abort "RGW and a bucket"
B=$(awk -F' = ' '/^bucket = / { print $2 }' "$BFS_CONF")
C=$W/guided.conf
printf '[bucketfs]\nbuiltin_dir = %s\ncache_dir = %s\n' "$W/builtin" \
	"$W/cache" >"$C"
bfs() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$BFS_BIN" "$@"; }

# ---- no terminal: one clear error
bfs bucket connect --config "$C" </dev/null >"$W/e1" 2>&1
t_is "no terminal, no flags: exit 2" "$?" 2
t_ok "the error lists what is needed" \
	grep -q "needs NAME: give NAME --provider s3|r2|gcs|custom --bucket B.*--keys-from-stdin" "$W/e1"
bfs bucket connect x --provider r2 --bucket b --config "$C" </dev/null \
	>"$W/e2" 2>&1
t_ok "a provider's own field missing is named" \
	grep -q "needs --account-id" "$W/e2"

# ---- on a terminal: the guided flow
umask 077
printf '%s\t%s\n' \
	"Choose 1-4" 9 \
	"Choose 1-4" 4 \
	"Name of this connection" "bad/name" \
	"Name of this connection" guided \
	"Bucket name at the provider" "$B" \
	"Endpoint URL" "$STORE_URL" \
	"Region, if the server needs one" "" \
	"Access key id:" "$STORE_ACCESS" \
	"Secret access key (not echoed)" "$STORE_SECRET" >"$W/answers"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	python3 "$BFS_TOOLS/pty_answer.py" "$W/answers" "$W/transcript" -- \
	"$BFS_BIN" bucket connect --config "$C" >"$W/pty.out" 2>&1
rc=$?
rm -f "$W/answers"
t_is "guided: the command succeeds" "$rc" 0
t_diag_file "$W/pty.out"
t_ok "guided: it says it saved the bucket" \
	grep -q "saved bucket 'guided'" "$W/transcript"
t_ok "guided: the menu offers every provider" \
	sh -c "grep -q '1) s3' '$W/transcript' && grep -q '4) custom' '$W/transcript'"
t_ok "guided: a wrong choice is asked again" \
	grep -q "'9' is not one of 1-4" "$W/transcript"
t_ok "guided: a bad name is asked again" grep -q "bad name" "$W/transcript"
t_ok "guided: the connection test ran" \
	grep -q "connection test passed" "$W/transcript"
t_fails "guided: the terminal never showed the secret" \
	grep -qF "$STORE_SECRET" "$W/transcript"
t_ok "guided: the access key id is echoed" \
	grep -qF "$STORE_ACCESS" "$W/transcript"
bfs bucket show guided --config "$C" >"$W/show" 2>&1
t_ok "guided: the section has the answers" \
	sh -c "grep -q 'provider *custom' '$W/show' && grep -q 'endpoint *$STORE_URL' '$W/show' && grep -q 'bucket *$B' '$W/show'"
t_ok "guided: the keys are stored encrypted" \
	sh -c "grep -c 'enc:v1:' '$C' | grep -qx 2"
t_ok "guided: bucket test passes with what was saved" \
	bfs bucket test guided --config "$C"

t_plan_done
