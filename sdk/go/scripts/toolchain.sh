# Sourced by generate.sh and test.sh: the Go SDK builds as its users build
# it, in module mode, with go.mod and go.sum fetched through the Go module
# proxy ($GOPROXY, by default proxy.golang.org). Nothing comes from Debian's
# Go packages.
#
# Needs `go` on PATH: at least go.mod's `go` line, or Go 1.21+ with
# GOTOOLCHAIN=auto (Go then fetches the toolchain go.mod names by itself).
#
# Installs the protoc plugins at pinned versions, once per machine, into
# ${CLOUDCONN_GO_BIN:-~/.cache/cloudconn/go-bin} (kept between runs;
# reinstalled only when the pinned version is missing there) and puts that
# directory first on PATH:
#   protoc-gen-go       at go.mod's google.golang.org/protobuf version (the
#                       generated code and the runtime it needs move together)
#   protoc-gen-go-grpc  at go_grpc_plugin_version below (its own module,
#                       versioned apart from grpc-go; 1.6 generates code for
#                       grpc-go 1.64 and later)
# Sets go_sdk_dir (sdk/go) and go_buf (the buf command, pinned: it compiles
# the protos for generate.sh, as it does for the TypeScript SDK; fetched by
# npx into npm's cache on first use).
go_grpc_plugin_version=v1.6.2
go_buf_version=1.75.0

go_sdk_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! command -v go >/dev/null; then
  echo "no \`go\` on PATH: install Go (https://go.dev/dl/, $(sed -n 's/^go //p' "$go_sdk_dir/go.mod") or later)" >&2
  return 1 2>/dev/null || exit 1
fi
# Module mode, this module alone (no go.work from a parent directory).
export GO111MODULE=on GOWORK=off

go_bin="${CLOUDCONN_GO_BIN:-$HOME/.cache/cloudconn/go-bin}"
mkdir -p "$go_bin"
export PATH="$go_bin:$PATH"
go_protobuf_version="$(cd "$go_sdk_dir" && go mod edit -json | node -e \
  'const m=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(m.Require.find((r)=>r.Path==="google.golang.org/protobuf").Version)')"

# go_plugin_ensure NAME PACKAGE VERSION: go install PACKAGE@VERSION into
# go_bin unless NAME --version already says VERSION.
go_plugin_ensure() {
  local name=$1 pkg=$2 version=$3 have
  have="$("$go_bin/$name" --version 2>/dev/null | awk '{print $NF}' | sed 's/^v//')" || true
  if [ "$have" != "${version#v}" ]; then
    echo "== go install $pkg@$version (into $go_bin)"
    GOBIN="$go_bin" GOFLAGS= go install "$pkg@$version"
  fi
}
go_plugin_ensure protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$go_protobuf_version"
go_plugin_ensure protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$go_grpc_plugin_version"

go_buf=(npx --yes "@bufbuild/buf@$go_buf_version")
