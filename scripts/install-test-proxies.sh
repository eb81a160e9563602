#!/usr/bin/env bash
# The real proxies the proxy tests start (tinyproxy for HTTP with basic authentication, dante for SOCKS4 and SOCKS5),
# the system account dante checks SOCKS5 passwords against, and the real HTTP/2 server the HTTP/2 tests call (nginx).
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
if ! command -v tinyproxy >/dev/null || ! [ -x /usr/sbin/danted ] || ! [ -x /usr/sbin/nginx ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq tinyproxy dante-server nginx-light
  # The packages start system services; the tests start their own instances.
  $sudo pkill -x tinyproxy || true
  $sudo pkill -x danted || true
  $sudo service nginx stop >/dev/null 2>&1 || true
fi
user=gwproxy
if ! id "$user" >/dev/null 2>&1; then
  $sudo useradd --no-create-home --shell /usr/sbin/nologin "$user"
  echo "$user:proxy-pass" | $sudo chpasswd
fi
