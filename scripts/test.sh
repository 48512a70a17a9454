#!/usr/bin/env bash
# The whole test suite: installs missing Debian packages (as root; otherwise prints the
# exact apt-get line and stops), builds, runs vitest and ends with
# "tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."

# dnsmasq-base: the binary only, without the dnsmasq service that would take port 53.
packages=(nftables iproute2 iperf3 ethtool containernetworking-plugins etcd-server openssl iputils-ping iputils-arping python3-minimal haproxy dnsmasq-base chromium gcc)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages; run:"
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent

results=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$results" "$@" || status=$?
node -e '
  const fs = require("fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  let failed = r.numFailedTests ?? 0;
  // A suite that fails to load, or a failing run with no test counted, still counts as failed.
  if (Number(process.argv[2]) !== 0 && failed === 0) failed = Math.max(1, r.numFailedTestSuites ?? 0);
  console.log(`tests: ${r.numPassedTests ?? 0} passed, ${failed} failed`);
' "$results" "$status"
rm -f "$results"
exit $status
