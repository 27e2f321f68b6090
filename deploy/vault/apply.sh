#!/usr/bin/env bash
# Applies cloudconn's Vault policies and AppRole roles. Idempotent.
#
#   VAULT_ADDR=… VAULT_TOKEN=<admin> deploy/vault/apply.sh
#
# Creates policies `cloudconn-server` and `cloudconn-worker` (for
# CLOUDCONN_VAULT_MOUNT / CLOUDCONN_VAULT_PREFIX, default secret / cloudconn),
# enables AppRole at `approle/` if needed, and creates roles of the same
# names. Prints each role's role_id and a new secret_id: hand them to the
# server and workers as CLOUDCONN_VAULT_ROLE_ID / CLOUDCONN_VAULT_SECRET_ID.
# Works with the `vault` or the `bao` CLI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cli=$(command -v vault || command -v bao) || { echo "need the vault or bao CLI" >&2; exit 1; }
mount=${CLOUDCONN_VAULT_MOUNT:-secret}
prefix=${CLOUDCONN_VAULT_PREFIX:-cloudconn}

for role in server worker; do
  sed -e "s#secret/data/cloudconn/#$mount/data/$prefix/#" -e "s#secret/metadata/cloudconn/#$mount/metadata/$prefix/#" \
    "$here/$role.hcl" | "$cli" policy write "cloudconn-$role" - >/dev/null
done
"$cli" auth list -format=json | grep -q '"approle/"' || "$cli" auth enable approle >/dev/null
for role in server worker; do
  # Short-lived tokens, renewed by the process and re-issued by login.
  "$cli" write "auth/approle/role/cloudconn-$role" token_policies="cloudconn-$role" \
    token_ttl=1h token_max_ttl=24h secret_id_ttl=0 >/dev/null
  role_id=$("$cli" read -field=role_id "auth/approle/role/cloudconn-$role/role-id")
  secret_id=$("$cli" write -f -field=secret_id "auth/approle/role/cloudconn-$role/secret-id")
  echo "cloudconn-$role: CLOUDCONN_VAULT_ROLE_ID=$role_id CLOUDCONN_VAULT_SECRET_ID=$secret_id"
done
