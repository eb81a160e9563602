#!/usr/bin/env bash
# Debian's wrk, h2load (nghttp2-client) and nginx (light), which `make bench` measures the machine's HTTP limits with:
# wrk and h2load against nginx, and the gateway against the same nginx. The nginx service the package may start is
# stopped: the bench runs its own.
set -euo pipefail
if command -v wrk >/dev/null && command -v h2load >/dev/null && [ -x /usr/sbin/nginx ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk nghttp2-client nginx-light
$sudo service nginx stop >/dev/null 2>&1 || true
