#!/bin/sh
# Compiles the native netintent-ipam shim (src/backends/ipam/shim) into dist/bin, or into
# the path given. Without a C compiler it only warns: the JS plugin
# dist/src/backends/ipam/plugin-main.js still works.
#
# Linked statically where the C library allows it: the runtime starts the shim for every
# CNI command, and without the dynamic loader mapping libc a start is several times
# cheaper (bench/RESULTS-ipam.md, cold start).
set -eu
cd "$(dirname "$0")/.."
out=${1:-dist/bin/netintent-ipam}
if ! command -v cc >/dev/null 2>&1; then
  echo "warning: no C compiler (cc): the native IPAM shim $out is not built (Debian package: gcc); the JS plugin still works" >&2
  exit 0
fi
mkdir -p "$(dirname "$out")"
static=-static
if ! printf 'int main(void) { return 0; }\n' | cc -static -x c -o /dev/null - 2>/dev/null; then
  echo "warning: no static C library (Debian package: libc6-dev): the IPAM shim is linked dynamically, and starts slower" >&2
  static=
fi
# Built aside and renamed: a shim running now never sees a half-written file.
cc -std=c99 -O2 -Wall -Wextra $static -o "$out.tmp" src/backends/ipam/shim/netintent-ipam.c
mv "$out.tmp" "$out"
