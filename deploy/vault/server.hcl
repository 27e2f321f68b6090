# cloudconn-server: read and write credential revisions under the prefix,
# read versions, destroy everything of a deleted connection. Nothing else.
# Written for mount `secret` and prefix `cloudconn`; apply.sh rewrites both
# from CLOUDCONN_VAULT_MOUNT / CLOUDCONN_VAULT_PREFIX.
path "secret/data/cloudconn/*" {
  capabilities = ["create", "update", "read"]
}
path "secret/metadata/cloudconn/*" {
  capabilities = ["read", "delete", "list"]
}
