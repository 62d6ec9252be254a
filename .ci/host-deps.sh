#!/usr/bin/env bash
# Debian packages the real-host tests need (Apache + headers for mod_wsgi,
# RabbitMQ, MariaDB for the API benchmark and the watchdog tests, the
# client headers mysqlclient builds against, Debian's own python3 with
# venv).  Installed only when missing, and only as root; otherwise the host
# tests skip and say why.
set -uo pipefail
pkgs="apache2 apache2-dev rabbitmq-server mariadb-server default-libmysqlclient-dev pkg-config python3-venv python3-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "host-deps: cannot install$missing (not root or no apt-get): host tests will skip"
    exit 0
fi
echo "host-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || echo "host-deps: apt-get update failed"
# Don't let the rabbitmq/mariadb packages start servers of their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get install -y -q $missing >/dev/null || echo "host-deps: apt-get install failed: host tests will skip"
rm -f /usr/sbin/policy-rc.d
exit 0
