#!/usr/bin/env bash
# Build llama.cpp's `llama-server` (the `--backend llama-server` binary) into a venv's bin.
#
# No package registry ships the binary (PyPI has only the Python bindings; Debian bookworm has
# no llama.cpp), so it is compiled from the llama.cpp sources that llama-cpp-python's own sdist
# vendors: the same llama.cpp version as the in-process `llama-cpp` backend, fetched from PyPI
# like every other dependency. Static, CPU-only, no web UI (it would be downloaded from a hub),
# no HTTPS. 12.5 minutes on 2 cores (measured), once; `make install` skips it when the binary exists.
#
#   bash scripts/build_llama_server.sh [BIN]        # BIN: the venv's bin folder (.venv/bin)
set -euo pipefail
BIN=${1:-.venv/bin}
PY="$BIN/python"
VERSION=$("$PY" -c "from importlib.metadata import version; print(version('llama-cpp-python'))")
WORK=${LLAMA_SERVER_BUILD_DIR:-build/llama-server}
SDIST="$WORK/llama_cpp_python-$VERSION"
mkdir -p "$WORK"
if [ ! -f "$SDIST/vendor/llama.cpp/CMakeLists.txt" ]; then
  "$PY" -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$WORK"
  tar xzf "$WORK/llama_cpp_python-$VERSION.tar.gz" -C "$WORK"
fi
CMAKE=$(command -v cmake || true)
if [ -z "$CMAKE" ]; then
  "$PY" -m pip install --quiet cmake
  CMAKE="$BIN/cmake"
fi
# Native, without AMX: these VMs report AMX but fault on its tile instructions (see Makefile).
NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
"$CMAKE" -S "$SDIST/vendor/llama.cpp" -B "$WORK/cmake" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="$NO_AMX" -DCMAKE_CXX_FLAGS="$NO_AMX" \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF >"$WORK/configure.log" 2>&1 ||
  { tail -30 "$WORK/configure.log"; exit 1; }
"$CMAKE" --build "$WORK/cmake" --target llama-server -j "${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
  >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; exit 1; }
install -m 755 "$WORK/cmake/bin/llama-server" "$BIN/llama-server"
echo "built $BIN/llama-server (llama.cpp from llama-cpp-python $VERSION)"
