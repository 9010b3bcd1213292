#!/usr/bin/env sh
# Install everything the tests need and run them all: lint, types, tests.
#
# Debian packages for the real-server tests (Dovecot, Postfix, Redis, Chromium, NSD) are
# installed when run as root; elsewhere those tests skip with a visible reason, unless
# MAILHELP_REQUIRE_SERVERS=1 (CI sets it) turns the skips into failures.
set -eu
cd "$(dirname "$0")/.."

DEBS="dovecot-imapd dovecot-pop3d postfix redis-server chromium nsd"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=""
    for pkg in $DEBS python3-venv; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        echo "installing Debian packages:$missing"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/ruff check bot tests benchmarks
.venv/bin/mypy
.venv/bin/mailhelp kb lint
.venv/bin/python -m pytest "$@"
