# Sourced by stack.sh and validate.sh: the Python tools the test command
# needs (OpenBao's CLI, moto, kubernetes-validate) are installed into a
# virtual environment under the cache directory, never into the system
# interpreter. A tool already on PATH is used as it is.
#
#   py_tool COMMAND PIP-SPEC   prints the path of COMMAND, installing PIP-SPEC
#                              into the venv first when COMMAND is nowhere
CLOUDCONN_VENV="${CLOUDCONN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudconn/venv}"

#   py_module MODULE PIP-SPEC  prints the venv's python, installing PIP-SPEC
#                              first when the venv cannot import MODULE
py_module() {
  local module=$1 spec=$2
  if [ ! -x "$CLOUDCONN_VENV/bin/pip" ]; then
    printf 'python tools: creating a virtual environment in %s\n' "$CLOUDCONN_VENV" >&2
    python3 -m venv "$CLOUDCONN_VENV" >&2
  fi
  if ! "$CLOUDCONN_VENV/bin/python" -c "import $module" 2>/dev/null; then
    printf 'python tools: installing %s into %s\n' "$spec" "$CLOUDCONN_VENV" >&2
    "$CLOUDCONN_VENV/bin/pip" install -q "$spec" >&2
  fi
  printf '%s\n' "$CLOUDCONN_VENV/bin/python"
}

py_tool() {
  local command=$1 spec=$2
  if command -v "$command" >/dev/null && "$command" --help >/dev/null 2>&1; then
    command -v "$command"
    return
  fi
  if [ ! -x "$CLOUDCONN_VENV/bin/$command" ]; then
    if [ ! -x "$CLOUDCONN_VENV/bin/pip" ]; then
      printf 'python tools: creating a virtual environment in %s\n' "$CLOUDCONN_VENV" >&2
      python3 -m venv "$CLOUDCONN_VENV" >&2
    fi
    printf 'python tools: installing %s into %s\n' "$spec" "$CLOUDCONN_VENV" >&2
    "$CLOUDCONN_VENV/bin/pip" install -q "$spec" >&2
  fi
  printf '%s\n' "$CLOUDCONN_VENV/bin/$command"
}
