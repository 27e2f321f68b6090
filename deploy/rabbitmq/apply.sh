#!/usr/bin/env bash
# Applies cloudconn's RabbitMQ identities and queue policies. Idempotent.
#
#   CLOUDCONN_RABBITMQ_URL_BASE=amqps://rabbitmq.rabbitmq.svc:5671 deploy/rabbitmq/apply.sh
#
# Run it where `rabbitmqctl` reaches the broker (root or the rabbitmq user on
# a broker node), or point RABBITMQCTL at it, e.g.
#   RABBITMQCTL="kubectl exec -i -n rabbitmq rabbitmq-server-0 -- rabbitmqctl"
# (`-i`: passwords go to rabbitmqctl on stdin, never on a command line).
#
# It creates, in the vhost CLOUDCONN_RABBITMQ_VHOST (default `cloudconn`,
# created if missing):
# - user `cloudconn-server`: declares the topology, publishes jobs, events and
#   issue requests, consumes results, its issue reply queues and its live
#   event queues (`amq.gen-*`);
# - user `cloudconn-worker`: consumes `<p>.validate` and `<p>.issue`, and
#   publishes only to the `<p>.replies` exchange (results and issue replies).
#   It declares nothing (the server does) and may not use the default
#   exchange, so it can put no message in any queue but `<p>.results` and
#   the servers' reply queues: no jobs, no issue requests, no events. It
#   cannot consume `<p>.results`, `<p>.validate.dead` or any event. (What it
#   can still do, answer an issue request, needs the worker's signing key
#   as well: docs/security.md.)
# - user `cloudconn-keda`: no permissions at all; enough for KEDA's passive
#   queue declare (queue length) and nothing else;
# - policy `<p>-results` on `<p>.results`: a byte cap (new results are refused
#   when it is full: the worker keeps the job and retries), a delivery limit,
#   and dead-lettering to `<p>.dead` with key `validate`, i.e. into
#   `<p>.validate.dead`, the dead-letter queue operators already watch (the
#   messages keep an `x-death` header naming `<p>.results`).
# No user gets a management tag.
#
# Passwords: a new random one for a user that does not exist yet, or for
# every user with CLOUDCONN_RABBITMQ_ROTATE=1; a user that exists keeps its
# password (and gets no URL file) otherwise. The AMQP URLs are written to
# CLOUDCONN_RABBITMQ_OUT (default ./rabbitmq-credentials, mode 0700), one file
# per identity, mode 0600: amqp-url-server, amqp-url-worker, amqp-url-keda.
# Nothing secret is printed. Load them into the Secret, e.g.
#   kubectl -n cloudconn create secret generic cloudconn-amqp \
#     --from-file=rabbitmq-credentials/amqp-url-server --from-file=… 
# then delete the directory.
#
# Variables (defaults in brackets):
#   CLOUDCONN_AMQP_PREFIX [cloudconn]   the processes' prefix (exchange and queue names)
#   CLOUDCONN_RABBITMQ_VHOST [cloudconn]
#   CLOUDCONN_RABBITMQ_SERVER_USER [cloudconn-server], _WORKER_USER [cloudconn-worker], _KEDA_USER [cloudconn-keda]
#   CLOUDCONN_RABBITMQ_URL_BASE [amqps://rabbitmq:5671]  scheme://host:port of the written URLs
#   CLOUDCONN_RABBITMQ_RESULTS_MAX_BYTES [67108864]      byte cap of `<p>.results`
#   CLOUDCONN_RABBITMQ_RESULTS_DELIVERY_LIMIT [20]       deliveries before a result is dead-lettered
#   CLOUDCONN_RABBITMQ_OUT, CLOUDCONN_RABBITMQ_ROTATE, RABBITMQCTL [rabbitmqctl]
#
# A per-message size limit is broker-wide: `max_message_size` in
# rabbitmq.conf (see rabbitmq.conf.example next to this script).
set -euo pipefail
umask 077

prefix=${CLOUDCONN_AMQP_PREFIX:-cloudconn}
vhost=${CLOUDCONN_RABBITMQ_VHOST:-cloudconn}
server_user=${CLOUDCONN_RABBITMQ_SERVER_USER:-cloudconn-server}
worker_user=${CLOUDCONN_RABBITMQ_WORKER_USER:-cloudconn-worker}
keda_user=${CLOUDCONN_RABBITMQ_KEDA_USER:-cloudconn-keda}
url_base=${CLOUDCONN_RABBITMQ_URL_BASE:-amqps://rabbitmq:5671}
results_max_bytes=${CLOUDCONN_RABBITMQ_RESULTS_MAX_BYTES:-67108864}
results_delivery_limit=${CLOUDCONN_RABBITMQ_RESULTS_DELIVERY_LIMIT:-20}
out=${CLOUDCONN_RABBITMQ_OUT:-./rabbitmq-credentials}
rotate=${CLOUDCONN_RABBITMQ_ROTATE:-0}
read -r -a ctl <<<"${RABBITMQCTL:-rabbitmqctl}"

die() { echo "deploy/rabbitmq/apply.sh: $*" >&2; exit 1; }
[[ $prefix =~ ^[A-Za-z0-9._-]+$ ]] || die "CLOUDCONN_AMQP_PREFIX must be [A-Za-z0-9._-]+"
[[ $vhost =~ ^[A-Za-z0-9._/-]+$ ]] || die "CLOUDCONN_RABBITMQ_VHOST must be [A-Za-z0-9._/-]+"
for u in "$server_user" "$worker_user" "$keda_user"; do
  [[ $u =~ ^[A-Za-z0-9._-]+$ ]] || die "user names must be [A-Za-z0-9._-]+ (got $u)"
done
[[ $results_max_bytes =~ ^[0-9]+$ && $results_delivery_limit =~ ^[0-9]+$ ]] || die "limits must be integers"
case $url_base in
  amqps://*) ;;
  amqp://127.0.0.1:* | amqp://localhost:* | amqp://\[::1\]:*) ;;
  amqp://*) echo "warning: $url_base is plaintext AMQP; production refuses amqp:// to a non-loopback host" >&2 ;;
  *) die "CLOUDCONN_RABBITMQ_URL_BASE must be amqps://host:port" ;;
esac

# Regexes over resource names (RabbitMQ anchors nothing: we do).
p=${prefix//./\\.}
topology="$p\\.(jobs|dead|events|replies|validate|validate\\.dead|results|issue)"

# Why each grant (docs/architecture.md, infra/src/amqp/topology.rs):
#   configure: exchange.declare / queue.declare of the topology. The server
#              runs Topology::declare on every (re)connect, so it needs all
#              eight names; its live event queues and issue reply queues are
#              server-named (`amq.gen-*`). The worker declares nothing.
#   write:     basic.publish to an exchange (the default one is `amq.default`);
#              queue.bind needs write on the queue it binds.
#   read:      basic.consume/get on a queue; queue.bind needs read on the
#              exchange it binds from.
#   The run step (docs/run.md): the server publishes issue requests to
#   `<p>.issue` through the default exchange and binds a reply queue of its
#   own (`amq.gen-*`) to `<p>.replies`; the worker reads `<p>.issue` and
#   answers through `<p>.replies`, as it sends results (bound to
#   `<p>.results` by the server, hence the server's write on it).
#   Declaring `<p>.validate`, which names a dead-letter exchange in its
#   arguments, needs read on `<p>.validate` and write on `<p>.dead` as well
#   (RabbitMQ checks that whoever sets a DLX could move the messages
#   there), so the server can also read jobs.
#   Why the worker declares nothing: declaring `<p>.validate` would need
#   write on it and on `<p>.dead`, and with those a worker could bind the
#   job queue to an exchange it may publish to, and so inject jobs.
server_configure="^($topology|amq\\.gen-.*)\$"
server_write="^($p\\.(jobs|events|dead|validate|validate\\.dead|results)|amq\\.gen-.*|amq\\.default)\$"
server_read="^($p\\.(jobs|dead|events|replies|results|validate)|amq\\.gen-.*)\$"
worker_configure='^$'
worker_write="^$p\\.replies\$"
worker_read="^$p\\.(validate|issue)\$"

rmq() { "${ctl[@]}" -q "$@"; }

rmq add_vhost "$vhost" >/dev/null
mkdir -p "$out"
chmod 700 "$out"

existing_users=$(rmq list_users --no-table-headers | cut -f1)
enc_vhost=$(printf '%s' "$vhost" | sed -e 's/%/%25/g' -e 's#/#%2F#g')

# user <name> <url file>: creates the user (or rotates its password) and
# writes its URL; the password only ever travels on stdin and into the file.
user() {
  local name=$1 file=$2 password
  if grep -qxF -- "$name" <<<"$existing_users" && [[ $rotate != 1 ]]; then
    echo "$name exists: password kept (CLOUDCONN_RABBITMQ_ROTATE=1 issues a new one); no $file written" >&2
    return
  fi
  password=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  if grep -qxF -- "$name" <<<"$existing_users"; then
    printf '%s\n' "$password" | rmq change_password "$name" >/dev/null
    rmq set_user_tags "$name" >/dev/null
  else
    printf '%s\n' "$password" | rmq add_user "$name" >/dev/null
  fi
  printf '%s://%s:%s@%s/%s\n' "${url_base%%://*}" "$name" "$password" "${url_base#*://}" "$enc_vhost" >"$out/$file.tmp"
  chmod 600 "$out/$file.tmp"
  mv "$out/$file.tmp" "$out/$file"
  echo "$name: URL written to $out/$file" >&2
}

user "$server_user" amqp-url-server
user "$worker_user" amqp-url-worker
user "$keda_user" amqp-url-keda

rmq set_permissions -p "$vhost" "$server_user" "$server_configure" "$server_write" "$server_read" >/dev/null
rmq set_permissions -p "$vhost" "$worker_user" "$worker_configure" "$worker_write" "$worker_read" >/dev/null
rmq set_permissions -p "$vhost" "$keda_user" '^$' '^$' '^$' >/dev/null
# guest (or any other user) keeps no access to this vhost unless granted elsewhere.

# Quorum-queue policy for the results queue. Only one policy applies to a
# queue (the highest priority), so this one wins over a catch-all.
results_policy=$(printf '{"max-length-bytes":%s,"overflow":"reject-publish","delivery-limit":%s,"dead-letter-exchange":"%s.dead","dead-letter-routing-key":"validate"}' \
  "$results_max_bytes" "$results_delivery_limit" "$prefix")
rmq set_policy -p "$vhost" --apply-to queues --priority 10 "$prefix-results" "^$p\\.results\$" "$results_policy" >/dev/null

echo "vhost $vhost: users $server_user, $worker_user, $keda_user and policy $prefix-results applied" >&2
