#!/usr/bin/env bash
# Applies cloudconn's Vault policies and auth roles. Idempotent.
#
#   VAULT_ADDR=https://… VAULT_CACERT=… VAULT_TOKEN=<admin> \
#   CLOUDCONN_VAULT_SERVER_CIDRS=10.244.0.0/16 deploy/vault/apply.sh           # everything, plus a server secret id
#   … deploy/vault/apply.sh rotate                                             # only a new server secret id
#
# Works with the `vault` or the `bao` CLI.
#
# - Policies `<name>-server` and `<name>-worker` (name: CLOUDCONN_VAULT_NAME,
#   default `cloudconn`) from server.hcl / worker.hcl, rewritten for
#   CLOUDCONN_VAULT_MOUNT / CLOUDCONN_VAULT_PREFIX (default secret / cloudconn).
# - The server: AppRole role `<name>-server` (enables AppRole at `approle/` if
#   needed). Tokens live 1 h, renewable to 24 h. Its secret ids expire after
#   CLOUDCONN_VAULT_SECRET_ID_TTL (default 24h) and serve at most
#   CLOUDCONN_VAULT_SECRET_ID_NUM_USES logins (default 100: one per replica
#   start and one per token maximum lifetime); secret ids and tokens are
#   bound to CLOUDCONN_VAULT_SERVER_CIDRS (required: the server pods' source
#   addresses as Vault sees them, comma-separated; `any` to bind nothing).
#   Because secret ids expire, run `apply.sh rotate` and roll the server more
#   often than the TTL (e.g. every 12 h for 24h): the server reads its
#   secret id at start and logs in again with it whenever its token reaches
#   its maximum lifetime.
# - The worker: Kubernetes auth role `<name>-worker` for the Vault Agent
#   sidecar (service account CLOUDCONN_VAULT_WORKER_SA, default
#   `cloudconn-worker`, in CLOUDCONN_K8S_NAMESPACE, default `cloudconn`),
#   tokens 1 h / 24 h, bound to CLOUDCONN_VAULT_WORKER_CIDRS if set; only if
#   Kubernetes auth is enabled at `kubernetes/` (configuring it is the Vault
#   operator's job: `vault auth enable kubernetes` and
#   `vault write auth/kubernetes/config kubernetes_host=…`).
# - The OpenID Connect signing key (keyless connections): the transit engine
#   at CLOUDCONN_OIDC_TRANSIT_MOUNT (default `transit`, enabled if needed) and
#   an RSA key CLOUDCONN_OIDC_KEY (default `cloudconn-oidc`, created once,
#   `rsa-2048`), rotated by Vault every CLOUDCONN_OIDC_AUTO_ROTATE (default
#   720h; `0` turns automatic rotation off). The server may read its public
#   keys, workers may sign with it; nobody may export it. cloudconn waits a
#   JWKS cache period before a new version signs (docs/keyless.md).
# - CLOUDCONN_VAULT_KV_MAX_VERSIONS (unset: untouched): sets `max_versions`
#   on the KV mount (all of it, so only for a mount cloudconn owns). Older
#   credential revisions then disappear by themselves (review L6), but so
#   does the active revision of a connection once that many newer ones have
#   been saved without becoming active: keep it at 3 or more.
#
# The role id and the new secret id go to files in CLOUDCONN_VAULT_OUT
# (default ./vault-credentials, mode 0700; files 0600):
# vault-server-role-id, vault-server-secret-id. Nothing secret is printed.
# Load them into the Secret the server mounts, then delete the directory.
set -euo pipefail
umask 077
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cli=$(command -v vault || command -v bao) || { echo "need the vault or bao CLI" >&2; exit 1; }
die() { echo "deploy/vault/apply.sh: $*" >&2; exit 1; }

mode=${1:-apply}
[[ $mode == apply || $mode == rotate ]] || die "usage: apply.sh [apply|rotate]"
name=${CLOUDCONN_VAULT_NAME:-cloudconn}
mount=${CLOUDCONN_VAULT_MOUNT:-secret}
prefix=${CLOUDCONN_VAULT_PREFIX:-cloudconn}
secret_id_ttl=${CLOUDCONN_VAULT_SECRET_ID_TTL:-24h}
secret_id_num_uses=${CLOUDCONN_VAULT_SECRET_ID_NUM_USES:-100}
server_cidrs=${CLOUDCONN_VAULT_SERVER_CIDRS:-}
worker_cidrs=${CLOUDCONN_VAULT_WORKER_CIDRS:-}
worker_sa=${CLOUDCONN_VAULT_WORKER_SA:-cloudconn-worker}
namespace=${CLOUDCONN_K8S_NAMESPACE:-cloudconn}
out=${CLOUDCONN_VAULT_OUT:-./vault-credentials}
oidc_mount=${CLOUDCONN_OIDC_TRANSIT_MOUNT:-transit}
oidc_key=${CLOUDCONN_OIDC_KEY:-cloudconn-oidc}
oidc_rotate=${CLOUDCONN_OIDC_AUTO_ROTATE:-720h}

[[ $oidc_rotate =~ ^(0|[1-9][0-9]*[smhd])$ ]] || die "CLOUDCONN_OIDC_AUTO_ROTATE must be 0 or a duration such as 720h"
for v in "$name" "$mount" "$prefix" "$worker_sa" "$namespace" "$oidc_mount" "$oidc_key"; do
  [[ $v =~ ^[A-Za-z0-9._/-]+$ ]] || die "names must be [A-Za-z0-9._/-]+ (got $v)"
done
[[ $secret_id_num_uses =~ ^[1-9][0-9]*$ ]] || die "CLOUDCONN_VAULT_SECRET_ID_NUM_USES must be a positive integer"
[[ $secret_id_ttl =~ ^[1-9][0-9]*[smh]$ ]] || die "CLOUDCONN_VAULT_SECRET_ID_TTL must be a duration such as 24h"
if [[ $mode == apply ]]; then
  [[ -n $server_cidrs ]] || die "set CLOUDCONN_VAULT_SERVER_CIDRS to the server pods' addresses (comma-separated CIDRs), or to 'any'"
  if [[ $server_cidrs == any ]]; then
    echo "warning: the server's secret ids and tokens are not bound to any address" >&2
    server_cidrs=""
  fi
fi
case ${VAULT_ADDR:-} in
  https://* | http://127.0.0.1:* | http://localhost:* | http://\[::1\]:*) ;;
  *) echo "warning: VAULT_ADDR is not https://: the secret id would cross the network in clear" >&2 ;;
esac

role="auth/approle/role/$name-server"

if [[ $mode == apply ]]; then
  for r in server worker; do
    sed -e "s#secret/data/cloudconn/#$mount/data/$prefix/#" -e "s#secret/metadata/cloudconn/#$mount/metadata/$prefix/#" \
      -e "s#transit/keys/cloudconn-oidc#$oidc_mount/keys/$oidc_key#" -e "s#transit/sign/cloudconn-oidc#$oidc_mount/sign/$oidc_key#" \
      "$here/$r.hcl" | "$cli" policy write "$name-$r" - >/dev/null
  done
  "$cli" secrets list -format=json | grep -q "\"$oidc_mount/\"" || "$cli" secrets enable -path="$oidc_mount" transit >/dev/null
  "$cli" read "$oidc_mount/keys/$oidc_key" >/dev/null 2>&1 || "$cli" write -f "$oidc_mount/keys/$oidc_key" type=rsa-2048 >/dev/null
  "$cli" write "$oidc_mount/keys/$oidc_key/config" auto_rotate_period="$oidc_rotate" >/dev/null
  auths=$("$cli" auth list -format=json)
  grep -q '"approle/"' <<<"$auths" || "$cli" auth enable approle >/dev/null
  # Short-lived tokens, renewed by the process and re-issued by login.
  "$cli" write "$role" token_policies="$name-server" token_ttl=1h token_max_ttl=24h \
    secret_id_ttl="$secret_id_ttl" secret_id_num_uses="$secret_id_num_uses" \
    secret_id_bound_cidrs="$server_cidrs" token_bound_cidrs="$server_cidrs" >/dev/null
  if grep -q '"kubernetes/"' <<<"$auths"; then
    "$cli" write "auth/kubernetes/role/$name-worker" token_policies="$name-worker" token_ttl=1h token_max_ttl=24h \
      bound_service_account_names="$worker_sa" bound_service_account_namespaces="$namespace" \
      token_bound_cidrs="$worker_cidrs" >/dev/null
  else
    echo "note: Kubernetes auth is not enabled at kubernetes/: no role $name-worker for the workers' Vault Agent" >&2
  fi
  if [[ -n ${CLOUDCONN_VAULT_KV_MAX_VERSIONS:-} ]]; then
    [[ $CLOUDCONN_VAULT_KV_MAX_VERSIONS =~ ^[1-9][0-9]*$ ]] || die "CLOUDCONN_VAULT_KV_MAX_VERSIONS must be a positive integer"
    "$cli" write "$mount/config" max_versions="$CLOUDCONN_VAULT_KV_MAX_VERSIONS" >/dev/null
  fi
fi

mkdir -p "$out"
chmod 700 "$out"
"$cli" read -field=role_id "$role/role-id" >"$out/vault-server-role-id.tmp"
"$cli" write -f -field=secret_id "$role/secret-id" >"$out/vault-server-secret-id.tmp"
for f in vault-server-role-id vault-server-secret-id; do
  chmod 600 "$out/$f.tmp"
  mv "$out/$f.tmp" "$out/$f"
done
echo "$name-server: role id and a new secret id (valid $secret_id_ttl, $secret_id_num_uses logins) written to $out/" >&2
