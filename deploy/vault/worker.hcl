# cloudconn-worker: read a credential revision. It can neither write nor
# delete, nor list what exists.
# Written for mount `secret` and prefix `cloudconn`; apply.sh rewrites both.
path "secret/data/cloudconn/*" {
  capabilities = ["read"]
}
# Sign keyless connections' tokens with the OpenID Connect key, and read
# its versions (which one signs). The private key never leaves Vault.
# Written for transit mount `transit` and key `cloudconn-oidc`; apply.sh
# rewrites both.
path "transit/keys/cloudconn-oidc" {
  capabilities = ["read"]
}
path "transit/sign/cloudconn-oidc" {
  capabilities = ["update"]
}
