# Sourced by generate.sh and test.sh: installs Debian's Go toolchain, protoc
# and the Go gRPC libraries when they are missing (the Go module proxy is not
# reachable on these machines, so everything comes from Debian's Go library
# tree, /usr/share/gocode), and sets up a GOPATH in which this directory
# sits at its import path.
#
# golang-github-golang-protobuf-1-5-dev is named explicitly: grpc 1.33 marshals
# through github.com/golang/protobuf, and apt's default for it (1.3) predates
# the protobuf APIv2 messages protoc-gen-go 1.28 generates (oneofs fail).
# shellcheck source=sdk/scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
apt_ensure golang-go protobuf-compiler protoc-gen-go protoc-gen-go-grpc \
  golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev \
  golang-google-genproto-dev

# GOPATH mode, offline: Debian's tree plus a private GOPATH holding a link
# to this module at github.com/cloudconn/cloudconn/sdk/go.
go_module=github.com/cloudconn/cloudconn/sdk/go
go_gopath="$(mktemp -d)"
mkdir -p "$go_gopath/src/$(dirname "$go_module")"
ln -s "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" "$go_gopath/src/$go_module"
export GO111MODULE=off GOFLAGS= GOPATH="$go_gopath:/usr/share/gocode" GOPROXY=off
go_pkgdir="$go_gopath/src/$go_module"
