#!/usr/bin/env bash
# Drop a cached or installed llama-cpp-python that was compiled with AMX tile instructions:
# the VMs here report AMX but fault on it (see the Makefile), and pip's wheel cache reuses a
# build whatever CMAKE_ARGS say. Run before `pip install`; cheap when nothing is wrong.
#
#   bash scripts/check_llama_cpp_wheel.sh [BIN]
set -euo pipefail
BIN=${1:-.venv/bin}
has_amx() { [ "$( (objdump -d "$1" 2>/dev/null || true) | grep -c ldtilecfg)" -gt 0 ]; }
lib=$(ls "$BIN"/../lib/python3*/site-packages/llama_cpp/lib/libggml-cpu.so 2>/dev/null | head -1 || true)
if [ -n "$lib" ] && has_amx "$lib"; then
  echo "llama-cpp-python was built with AMX; rebuilding it without"
  "$BIN/python" -m pip uninstall --quiet -y llama-cpp-python
  "$BIN/python" -m pip cache remove llama_cpp_python >/dev/null 2>&1 || true
fi
