#!/usr/bin/env bash
# schemathesis (PyPI), which the API test runs against a live gateway, in a virtual environment of its own under the
# build folder (target/test-tools/venv), unless it is there already. Needs python3 with venv (Debian: python3-venv).
set -euo pipefail
version=4.32.5
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${CARGO_TARGET_DIR:-$root/target}/test-tools/venv
if [ -x "$venv/bin/st" ] && "$venv/bin/pip" show schemathesis 2>/dev/null | grep -q "^Version: $version$"; then
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
fi
echo "installing schemathesis $version into $venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "schemathesis==$version"
"$venv/bin/st" --version
