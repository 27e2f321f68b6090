# Sourced by the SDKs' scripts (test.sh, toolchain.sh): what their tests
# share besides the scenario.
#
#   apt_ensure PKG…       installs the Debian packages that are missing
#   sdk_test_begin NAME   sets `repo` and `sdk_tmp` (a fresh directory), and an
#                         exit trap that stops the server, shows its log's last
#                         lines on failure, removes sdk_tmp (and the paths in
#                         `sdk_cleanup`) and says how long NAME's tests took
#   sdk_server_start      starts `cloudconn-server --dev` on a free loopback
#                         port with data in sdk_tmp and exports
#                         CLOUDCONN_TEST_ADDRESS and CLOUDCONN_TEST_TOKEN; the
#                         server is ${CLOUDCONN_SERVER_BIN:-<repo>/target/debug/cloudconn-server};
#                         extra CLOUDCONN_* variables go in front of the call

apt_ensure() {
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "== apt-get install ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
}

sdk_test_begin() {
  sdk_name=$1
  sdk_started=$SECONDS
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  sdk_tmp="$(mktemp -d)"
  sdk_cleanup=()
  server_pid=""
  trap _sdk_test_end EXIT
}

_sdk_test_end() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$sdk_tmp/server.log" ]; then
    echo "== last lines of the server's log" >&2
    tail -n 15 "$sdk_tmp/server.log" >&2
  fi
  rm -rf "$sdk_tmp" "${sdk_cleanup[@]}"
  echo "== $sdk_name tests took $((SECONDS - sdk_started)) s (exit $status)"
}

sdk_server_start() {
  local server="${CLOUDCONN_SERVER_BIN:-$repo/target/debug/cloudconn-server}" port
  if [ ! -x "$server" ]; then
    echo "no server binary at $server: build it (cargo build -p cloudconn-server) or set CLOUDCONN_SERVER_BIN" >&2
    return 1
  fi
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  echo "== starting $server --dev on 127.0.0.1:$port (server binary from $(date -r "$server" '+%F %T'))"
  # shellcheck source=deploy/dev-server.sh
  source "$repo/deploy/dev-server.sh"
  dev_server_start "$server" "$sdk_tmp" "$port"
  export CLOUDCONN_TEST_ADDRESS="$dev_address" CLOUDCONN_TEST_TOKEN="$dev_token"
}
