#!/usr/bin/env bash
# The Python tools the tests use, in a virtual environment of their own under the build folder
# (target/test-tools/venv), unless they are there already: schemathesis (run against a live gateway by the API
# test), PyJWT (the token server that verifies the gateway's JWT assertions independently) and standardwebhooks
# (which verifies the gateway's signed requests) and opentelemetry-proto (which decodes the
# spans the gateway exports, behind the tests' OTLP receiver). Needs python3 with
# venv (Debian: python3-venv).
set -euo pipefail
version=4.32.5
pyjwt=2.10.1
standardwebhooks=1.1.0
otelproto=1.45.2
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${CARGO_TARGET_DIR:-$root/target}/test-tools/venv
if [ -x "$venv/bin/st" ] && "$venv/bin/pip" show schemathesis 2>/dev/null | grep -q "^Version: $version$" \
  && "$venv/bin/pip" show pyjwt 2>/dev/null | grep -q "^Version: $pyjwt$" \
  && "$venv/bin/pip" show standardwebhooks 2>/dev/null | grep -q "^Version: $standardwebhooks$" \
  && "$venv/bin/pip" show opentelemetry-proto 2>/dev/null | grep -q "^Version: $otelproto$"; then
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
fi
echo "installing schemathesis $version, PyJWT $pyjwt, standardwebhooks $standardwebhooks and opentelemetry-proto $otelproto into $venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "schemathesis==$version" "pyjwt[crypto]==$pyjwt" "standardwebhooks==$standardwebhooks" \
  "opentelemetry-proto==$otelproto"
"$venv/bin/st" --version
