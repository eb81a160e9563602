#!/usr/bin/env bash
# Installs the Debian packages the build and the demos need, when missing: OpenSSL headers and pkg-config
# (librdkafka's TLS), curl (the demo scripts).
set -euo pipefail
packages=(libssl-dev pkg-config curl)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}"
