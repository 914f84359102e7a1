#!/usr/bin/env bash
# Makes sure a MariaDB server answers on 127.0.0.1:3306 for root without a
# password: uses the one running, else starts the installed one, else
# installs Debian's mariadb-server and starts it. Exits non-zero when no
# server can be had: tests never skip for want of a database.
set -euo pipefail

answers() {
  command -v mysql >/dev/null 2>&1 &&
    mysql --protocol=tcp -h127.0.0.1 -P3306 -uroot -e 'SELECT 1' >/dev/null 2>&1
}

answers && exit 0

if ! [ -x /usr/sbin/mariadbd ] || ! command -v mysql >/dev/null 2>&1; then
  echo "mariadb: installing Debian's mariadb-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mariadb-server >/dev/null
fi

if ! mysqladmin --protocol=tcp -h127.0.0.1 -P3306 ping >/dev/null 2>&1; then
  echo "mariadb: starting the server" >&2
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql --bind-address=127.0.0.1 --port=3306
  for _ in $(seq 1 60); do
    mysqladmin --protocol=tcp -h127.0.0.1 -P3306 ping >/dev/null 2>&1 && break
    sleep 1
  done
fi

if ! answers; then
  # A fresh Debian install lets root in through the unix socket only.
  echo "mariadb: letting root in over TCP without a password" >&2
  mysql -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;" || true
fi

answers || { echo "mariadb: no server answers on 127.0.0.1:3306 as root without a password" >&2; exit 1; }
