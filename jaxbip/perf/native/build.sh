#!/usr/bin/env bash
# Builds jaxbip/perf/native/libjaxbip_onednn.so (oneDNN convolutions for CPU).
#
#   bash jaxbip/perf/native/build.sh [PYTHON]
#
# Needs g++ and oneDNN's headers and library (Debian/Ubuntu: libdnnl-dev,
# installed here with apt-get when running as root). Without them it says so
# and exits 0: jaxbip then uses XLA's CPU convolutions (slower,
# docs/speed.md).
set -uo pipefail
python=${1:-python3}
case $python in */*) python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")" ;; esac
cd "$(dirname "$0")"
out=libjaxbip_onednn.so

have_dnnl() { echo '#include <oneapi/dnnl/dnnl.hpp>' | g++ -x c++ -std=c++17 -fsyntax-only - 2>/dev/null; }

if ! command -v g++ >/dev/null; then
  echo "jaxbip native: no g++; not building the oneDNN convolutions" >&2
  exit 0
fi
if ! have_dnnl && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "jaxbip native: installing libdnnl-dev (oneDNN) with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q libdnnl-dev >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q libdnnl-dev >/dev/null 2>&1; }
fi
if ! have_dnnl; then
  echo "jaxbip native: oneDNN headers not found (install libdnnl-dev);" \
       "conv='auto' will use XLA's CPU convolutions" >&2
  exit 0
fi
include=$("$python" -c "import jax.ffi; print(jax.ffi.include_dir())") || exit 1
g++ -O2 -std=c++17 -shared -fPIC -Wno-attributes -Wno-return-type \
    -I"$include" onednn_conv.cc -ldnnl -o "$out.tmp" && mv "$out.tmp" "$out" \
  || { echo "jaxbip native: build failed" >&2; rm -f "$out.tmp"; exit 1; }
echo "jaxbip native: built jaxbip/perf/native/$out" >&2
