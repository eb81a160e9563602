#!/usr/bin/env bash
# Installs the Kafka-compatible test broker (tansu 0.6.0, SQLite storage) unless it is already there.
# About 10 minutes on a fresh 2-core machine; the binary lands in ~/.cargo/bin.
set -euo pipefail
version=0.6.0
bin=${CARGO_HOME:-$HOME/.cargo}/bin/tansu
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "$version"; then
  echo "tansu $version already installed at $bin"
  exit 0
fi
echo "installing tansu $version (cargo install, about 10 minutes)"
cargo install tansu --version "$version" --locked --no-default-features --features dynostore,libsql
"$bin" --version
