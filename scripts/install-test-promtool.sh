#!/usr/bin/env bash
# Debian's prometheus package, for promtool: the metrics test has the real Prometheus tooling check the exposition.
set -euo pipefail
if command -v promtool >/dev/null; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus
