# Sourced by generate.sh, build.sh and test.sh: installs protoc, the gRPC
# Java plugin and Debian's gRPC Java jars when missing (Maven Central is not
# reachable on these machines; pom.xml is for users elsewhere), a JDK when
# javac is, and sets `classpath` to those jars.
#
# Besides grpc-java: Google's common protos (com.google.rpc: Status,
# BadRequest; Debian's 1.16 predates ErrorInfo, which the SDK decodes
# itself), Geronimo's annotations (javax.annotation.Generated, which the
# generated stubs carry and JDK 9+ lacks; compile time only) and gson (the
# tests read the scenario with it).
java_packages=(protobuf-compiler protobuf-compiler-grpc-java-plugin libgrpc-java libprotobuf-java
  libnetty-java libperfmark-java libguava-java libgoogle-common-protos-java
  libgeronimo-annotation-1.3-spec-java libgoogle-gson-java)
command -v javac >/dev/null || java_packages+=(default-jdk-headless)
# shellcheck source=sdk/scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
apt_ensure "${java_packages[@]}"

jars=(grpc-api grpc-core grpc-context grpc-netty grpc-protobuf grpc-protobuf-lite grpc-stub
  protobuf proto-google-common-protos guava failureaccess perfmark-api
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-codec-socks netty-common
  netty-handler netty-handler-proxy netty-resolver netty-transport
  geronimo-annotation-1.3-spec error_prone_annotations gson)
classpath=""
for j in "${jars[@]}"; do
  [ -f "/usr/share/java/$j.jar" ] && classpath="$classpath${classpath:+:}/usr/share/java/$j.jar"
done
export classpath
