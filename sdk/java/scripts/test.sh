#!/usr/bin/env bash
# The Java SDK's tests, end to end against a real server, with Maven as its
# users build:
#   checks docs/sdks.md's parity table; starts `cloudconn-server --dev` on a
#   free loopback port with a fresh data directory; `mvn install`, which
#   generates the client from ../../proto (into target/, so it cannot be
#   stale), compiles with every lint warning an error, runs the JUnit 5 tests
#   (Surefire: the shared scenario, the Java-only cases, the error mapping)
#   against the server and installs the SDK into the local Maven repository;
#   then builds a user's project outside the repository
#   (scripts/user-project, which depends on dev.cloudconn:cloudconn-sdk) and
#   runs its seed flow against the same server; and stops the server.
# The JDK (17+) and Maven (3.8+) are Debian's, installed when missing; every
# library and protoc come from Maven Central (~/.m2, or wherever MAVEN_OPTS'
# -Dmaven.repo.local points).
# The server is ${CLOUDCONN_SERVER_BIN:-<repo>/target/debug/cloudconn-server}.
# Extra arguments go to the SDK's `mvn install` (e.g. -Dtest='ScenarioTest#watch').
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=sdk/scripts/lib.sh
source ../scripts/lib.sh
sdk_test_begin sdk/java
command -v javac >/dev/null || apt_ensure default-jdk-headless
command -v mvn >/dev/null || apt_ensure maven
pom_property() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" pom.xml | head -n 1; }
version="$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -n 1)"
echo "== $(javac -version 2>&1); $(mvn -v 2>/dev/null | head -n 1 | sed 's/\x1b\[[0-9;]*m//g'); cloudconn-sdk $version: grpc-java $(pom_property grpc.version), protobuf-java and protoc $(pom_property protobuf.version)"

# 1. The parity table is true.
echo "== SDK parity table (docs/sdks.md)"
node "$repo/sdk/scripts/check-parity.mjs"

# 2. The server; 3. generate, build, test (in sdk/java: the tests read
#    ../scenario) and install.
sdk_server_start
sdk_moto_start
echo "== mvn install (generate, compile, JUnit 5 tests, install)"
mvn -B -ntp install "$@"

# 4. A user's project, outside the repository, against the installed SDK.
echo "== a user's project (dev.cloudconn:cloudconn-sdk:$version from the local repository)"
user="$sdk_tmp/user-project"
cp -r scripts/user-project "$user"
(
  cd "$user"
  # Maven's JVM on the C1 compiler only, as .mvn/jvm.config has it for the SDK.
  export MAVEN_OPTS="-XX:TieredStopAtLevel=1 ${MAVEN_OPTS:-}"
  mvn -B -ntp -q -Dcloudconn.version="$version" compile dependency:build-classpath -Dmdep.outputFile=classpath.txt
  # The cloud SDKs are optional dependencies of the SDK: a user who names none gets none.
  if tr ':' '\n' <classpath.txt | grep -E 'awssdk|com/azure|google/auth|reactor-core'; then
    echo "the cloud SDKs above reached a user's classpath: they must stay <optional>" >&2
    exit 1
  fi
  java -cp "target/classes:$(cat classpath.txt)" example.Main "juser$$"
)
