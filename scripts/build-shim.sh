#!/bin/sh
# Compiles the native netintent-ipam shim (src/backends/ipam/shim) into dist/bin. Without a
# C compiler it only warns: the JS plugin dist/src/backends/ipam/plugin-main.js still works.
set -eu
cd "$(dirname "$0")/.."
if ! command -v cc >/dev/null 2>&1; then
  echo "warning: no C compiler (cc): the native IPAM shim dist/bin/netintent-ipam is not built (Debian package: gcc); the JS plugin still works" >&2
  exit 0
fi
mkdir -p dist/bin
# Built aside and renamed: a shim running now never sees a half-written file.
cc -std=c99 -O2 -Wall -Wextra -o dist/bin/netintent-ipam.tmp src/backends/ipam/shim/netintent-ipam.c
mv dist/bin/netintent-ipam.tmp dist/bin/netintent-ipam
