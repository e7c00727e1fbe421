#!/usr/bin/env bash
# Installs what the build and the tests need, and nothing twice.
# Debian packages through apt-get (only when one is missing), npm test tools from the committed lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  build-essential cmake pkg-config
  libboost1.81-dev libssl-dev libsodium-dev libre2-dev libyaml-cpp-dev libcli11-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql
  libgtest-dev libgmock-dev libbenchmark-dev clang-format clang-tidy
  nodejs npm wrk curl
  docker-compose yamllint shellcheck
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from outside Debian (the base image ships its own); accept any working one.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" != "--no-npm" ]]; then
  # npm ci only when the lockfile changed since the last install.
  stamp=tests/node_modules/.lock-stamp
  if [[ ! -f "$stamp" ]] || ! cmp -s tests/package-lock.json "$stamp"; then
    echo "bootstrap: npm ci in tests/"
    (cd tests && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/package-lock.json "$stamp"
  fi
fi
