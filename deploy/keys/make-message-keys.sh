#!/usr/bin/env bash
# Makes the run step's signing keys (docs/security.md, "The run step over
# RabbitMQ"): one Ed25519 pair for the servers, one for the workers.
#
#   deploy/keys/make-message-keys.sh [out-dir]      (default ./message-keys)
#
# Writes, mode 0600 in a 0700 directory:
#   server-signing.pem  the servers' private key  -> CLOUDCONN_AMQP_SIGNING_KEY_FILE of the server
#   server-public.pem   its public half            -> CLOUDCONN_AMQP_PEER_KEYS_FILE of the workers
#   worker-signing.pem  the workers' private key   -> CLOUDCONN_AMQP_SIGNING_KEY_FILE of the workers
#   worker-public.pem   its public half            -> CLOUDCONN_AMQP_PEER_KEYS_FILE of the server
# Load them into the Secret (secret-example.yaml), then delete the directory:
#   kubectl -n cloudconn create secret generic cloudconn-message-keys \
#     --from-file=message-keys/server-signing.pem --from-file=message-keys/server-public.pem \
#     --from-file=message-keys/worker-signing.pem --from-file=message-keys/worker-public.pem
#
# To rotate a pair without a flag day: make a new pair, append the new public
# key to the peer file (a peer file may hold several keys), roll the peers,
# then roll the signer with the new private key, then drop the old public key.
# An existing private key is never overwritten.
set -euo pipefail
umask 077
out=${1:-./message-keys}
command -v openssl >/dev/null || { echo "make-message-keys.sh: needs openssl" >&2; exit 1; }
mkdir -p "$out"
chmod 700 "$out"
for role in server worker; do
  key="$out/$role-signing.pem"
  if [[ -e $key ]]; then
    echo "$key exists: kept" >&2
  else
    openssl genpkey -algorithm ed25519 -out "$key"
  fi
  openssl pkey -in "$key" -pubout -out "$out/$role-public.pem"
  echo "$role: $key and $out/$role-public.pem" >&2
done
