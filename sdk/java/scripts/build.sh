#!/usr/bin/env bash
# Compiles the SDK and its tests with javac against Debian's jars, into
# build/ (or $1): the generated code (recompiled only when it changed: it is
# most of the compile time), then the wrapper and the tests with every lint
# warning an error. Maven Central is not reachable here; pom.xml is for
# users elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-build}"
# shellcheck source=sdk/java/scripts/toolchain.sh
source scripts/toolchain.sh
stamp="$(find src/generated/java -name '*.java' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$out/gen-classes.sha256" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$out/gen-classes"
  javac --release 17 -nowarn -d "$out/gen-classes" -cp "$classpath" $(find src/generated/java -name '*.java')
  echo "$stamp" >"$out/gen-classes.sha256"
fi
rm -rf "$out/classes" "$out/test-classes"
javac --release 17 -Xlint:all -Werror -d "$out/classes" -cp "$classpath:$out/gen-classes" $(find src/main/java -name '*.java')
javac --release 17 -Xlint:all -Werror -d "$out/test-classes" -cp "$classpath:$out/gen-classes:$out/classes" $(find src/test/java -name '*.java')
