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
#                         extra CLOUDCONN_* variables go in front of the call;
#                         also exports CLOUDCONN_TEST_SANDBOX_<PROVIDER> (the
#                         provider sandbox's URLs, from client.json)
#   sdk_moto_start        starts a private moto that enforces IAM and a second
#                         `--dev --providers real` server whose AWS is that moto,
#                         makes one ACTIVE AWS connection there, and exports
#                         CLOUDCONN_TEST_MOTO_{ADDRESS,TOKEN,WORKSPACE,TAG,ENDPOINT}

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
  sdk_pids=()
  server_pid=""
  trap _sdk_test_end EXIT
}

_sdk_test_end() {
  local status=$?
  local pid
  for pid in $server_pid "${sdk_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "$status" -ne 0 ] && [ -f "$sdk_tmp/server.log" ]; then
    echo "== last lines of the server's log" >&2
    tail -n 15 "$sdk_tmp/server.log" >&2
    if [ -f "$sdk_tmp/moto/server.log" ]; then
      echo "== last lines of the moto-backed server's log" >&2
      tail -n 15 "$sdk_tmp/moto/server.log" >&2
    fi
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
  port="$(_sdk_free_port)"
  echo "== starting $server --dev on 127.0.0.1:$port (server binary from $(date -r "$server" '+%F %T'))"
  # shellcheck source=deploy/dev-server.sh
  source "$repo/deploy/dev-server.sh"
  dev_server_start "$server" "$sdk_tmp" "$port"
  export CLOUDCONN_TEST_ADDRESS="$dev_address" CLOUDCONN_TEST_TOKEN="$dev_token"
  # Where the provider sandbox listens (client.json's "sandbox"), for the
  # cloud SDKs the credential providers' tests drive:
  # CLOUDCONN_TEST_SANDBOX_AWS, _GCP, _AZURE, _MONGODB_ATLAS, _NEO4J_AURA.
  local name url
  while read -r name url; do
    export "CLOUDCONN_TEST_SANDBOX_$name=$url"
  done < <(node -e 'const f=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
    for (const [k, v] of Object.entries(f.sandbox ?? {})) console.log(k.toUpperCase(), v)' "$sdk_tmp/client.json")
}

# Why a second server and a private moto: the credential providers' S3 test
# must be able to fail. The `--dev` sandbox checks a session's key and token
# but not its signature, and the stack's shared moto accepts any key. A moto
# whose IAM enforcement is on (`/moto-api/reset-auth`) checks SigV4 against
# the secret it issued, so only the session cloudconn minted gets in. The
# switch is global to a moto server, hence a private one; the role trusts
# the platform user only with the connection's external id, which exists
# once the connection does, so the connection is created before the role.
sdk_moto_start() {
  local moto_bin moto_port server port data cli ws=sdk-moto tag=moto_aws
  moto_bin="${CLOUDCONN_TEST_MOTO_SERVER:-}"
  if [ -z "$moto_bin" ]; then
    # shellcheck source=deploy/python-tools.sh
    source "$repo/deploy/python-tools.sh"
    moto_bin="$(py_tool moto_server 'moto[server]')"
  fi
  server="${CLOUDCONN_SERVER_BIN:-$repo/target/debug/cloudconn-server}"
  cli="${CLOUDCONN_CLI_BIN:-$(dirname "$server")/cloudconn}"
  data="$sdk_tmp/moto"
  mkdir -p "$data"
  moto_port="$(_sdk_free_port)"
  "$moto_bin" -H 127.0.0.1 -p "$moto_port" >"$data/moto.log" 2>&1 &
  sdk_pids+=($!)
  local moto="http://127.0.0.1:$moto_port"
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$moto/moto-api/" 2>/dev/null && break
    sleep 0.1
  done
  curl -fsS -o /dev/null "$moto/moto-api/" || { echo "moto did not start on $moto" >&2; return 1; }

  # The platform's own identity: a user that may assume roles.
  _sdk_moto_iam "$moto" CreateUser UserName=cloudconn-platform >/dev/null
  _sdk_moto_iam "$moto" PutUserPolicy UserName=cloudconn-platform PolicyName=assume \
    "PolicyDocument=$(_sdk_allow '"sts:AssumeRole"')" >/dev/null
  local key
  key="$(_sdk_moto_iam "$moto" CreateAccessKey UserName=cloudconn-platform)"

  port="$(_sdk_free_port)"
  local first_pid=$server_pid
  AWS_ACCESS_KEY_ID="$(_sdk_xml "$key" AccessKeyId)" AWS_SECRET_ACCESS_KEY="$(_sdk_xml "$key" SecretAccessKey)" \
    AWS_REGION=us-east-1 CLOUDCONN_AWS_ENDPOINT="$moto" \
    dev_server_start "$server" "$data" "$port" --providers real
  sdk_pids+=("$server_pid")
  server_pid=$first_pid
  echo "== moto (IAM enforced) on $moto behind a second server on $dev_address"

  local run=(env -u CLOUDCONN_TOKEN CLOUDCONN_ADDR="$dev_address" CLOUDCONN_TOKEN_FILE="$data/token"
    CLOUDCONN_WORKSPACE="$ws" "$cli")
  printf '%s' "$dev_token" >"$data/token"
  "${run[@]}" connections create "$tag" --provider aws --scope storage >/dev/null
  local external_id
  external_id="$("${run[@]}" connections get "$tag" -o json |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).externalId))')"
  local trust
  trust="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\
\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:user/cloudconn-platform\"},\
\"Condition\":{\"StringEquals\":{\"sts:ExternalId\":\"$external_id\"}}}]}"
  _sdk_moto_iam "$moto" CreateRole RoleName=cloudconn-sdk "AssumeRolePolicyDocument=$trust" >/dev/null
  _sdk_moto_iam "$moto" PutRolePolicy RoleName=cloudconn-sdk PolicyName=s3 \
    "PolicyDocument=$(_sdk_allow '"s3:*"')" >/dev/null
  # From here on moto checks every request's signature and policies.
  curl -fsS -o /dev/null -H "Content-Type: text/plain" --data-binary 0 "$moto/moto-api/reset-auth"
  "${run[@]}" connections complete "$tag" --field role_arn=arn:aws:iam::123456789012:role/cloudconn-sdk --validate \
    >"$data/validate.log" 2>&1 || { cat "$data/validate.log" >&2; return 1; }

  export CLOUDCONN_TEST_MOTO_ADDRESS="$dev_address" CLOUDCONN_TEST_MOTO_TOKEN="$dev_token" \
    CLOUDCONN_TEST_MOTO_WORKSPACE="$ws" CLOUDCONN_TEST_MOTO_TAG="$tag" CLOUDCONN_TEST_MOTO_ENDPOINT="$moto"
}

_sdk_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# One IAM query call before enforcement: moto routes by the service in the
# credential scope, so a well-formed unsigned Authorization header will do.
_sdk_moto_iam() {
  local url=$1 action=$2 arg
  shift 2
  local form=(--data-urlencode "Action=$action" --data-urlencode "Version=2010-05-08")
  for arg in "$@"; do form+=(--data-urlencode "$arg"); done
  curl -fsS "$url" "${form[@]}" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"
}

_sdk_allow() {
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[%s],"Resource":"*"}]}' "$1"
}

_sdk_xml() {
  sed -n "s:.*<$2>\([^<]*\)</$2>.*:\1:p" <<<"$1" | head -1
}
