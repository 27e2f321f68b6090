# Sourced by the SDK's and the Workbench's test scripts: starts
# `cloudconn-server --dev` in the background and waits for the client file
# it writes.
#
#   dev_server_start SERVER DATA_DIR PORT [SERVER ARGUMENTS…]
#
# Sets `server_pid` (for the caller's cleanup trap), `dev_address` and
# `dev_token` (from DATA_DIR/client.json). Extra CLOUDCONN_* variables go
# in front of the call, extra arguments (e.g. `--providers real`) after
# the port; the server's output goes to DATA_DIR/server.log.
dev_server_start() {
  local server=$1 data=$2 port=$3
  shift 3
  CLOUDCONN_DEV_DATA_DIR="$data" CLOUDCONN_LISTEN="127.0.0.1:$port" \
    "$server" --dev "$@" >"$data/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    [ -s "$data/client.json" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "the server exited before writing $data/client.json" >&2
      return 1
    fi
    sleep 0.1
  done
  if [ ! -s "$data/client.json" ]; then
    echo "the server wrote no $data/client.json within 60 s" >&2
    return 1
  fi
  sleep 0.2 # the file is written whole, but give a slow writer a moment
  local read='const f=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(f[process.argv[2]])'
  dev_address="$(node -e "$read" "$data/client.json" address)"
  dev_token="$(node -e "$read" "$data/client.json" token)"
}
