# cloudconn-worker: read a credential revision. It can neither write nor
# delete, nor list what exists.
# Written for mount `secret` and prefix `cloudconn`; apply.sh rewrites both.
path "secret/data/cloudconn/*" {
  capabilities = ["read"]
}
