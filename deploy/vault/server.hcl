# cloudconn-server: read and write credential revisions under the prefix,
# read their metadata (current version), destroy everything of a deleted
# connection. Nothing else: no `list`, so a stolen server token cannot
# enumerate workspaces and connections. These are exactly the calls in
# infra/src/vault.rs: kv2 set (with check-and-set), read_version,
# read_metadata, delete_metadata.
# Written for mount `secret` and prefix `cloudconn`; apply.sh rewrites both
# from CLOUDCONN_VAULT_MOUNT / CLOUDCONN_VAULT_PREFIX.
path "secret/data/cloudconn/*" {
  capabilities = ["create", "update", "read"]
}
path "secret/metadata/cloudconn/*" {
  capabilities = ["read", "delete"]
}
# The OpenID Connect signing key's public keys, for the JWKS the server
# publishes (keyless connections). Never `sign`: only workers sign.
# Written for transit mount `transit` and key `cloudconn-oidc`; apply.sh
# rewrites both from CLOUDCONN_OIDC_TRANSIT_MOUNT / CLOUDCONN_OIDC_KEY.
path "transit/keys/cloudconn-oidc" {
  capabilities = ["read"]
}
