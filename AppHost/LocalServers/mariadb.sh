#!/bin/sh
# MariaDB as a plain child process (local mode; also used by the tests' BackingServers).
# Usage: mariadb.sh DATADIR PORT, with MYSQL_ROOT_PASSWORD in the environment.
# Initialises DATADIR on first start, keeps root's password in step with the parameter on
# every start (so changing the secret never locks you out of your data), then becomes mariadbd.
set -eu
datadir=$1
port=$2
: "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD is not set}"
# Its own temporary folder: two servers initialising at once in a shared /tmp delete each other's files.
mkdir -p "$datadir/tmp"
if [ ! -d "$datadir/db/mysql" ]; then
  # A half-made data folder is removed, so the supervisor's restart initialises it again.
  mariadb-install-db --no-defaults --datadir="$datadir/db" --user=root --tmpdir="$datadir/tmp" \
    --auth-root-authentication-method=normal --skip-test-db >"$datadir/install.log" 2>&1 \
    || { rm -rf "$datadir/db"; cat "$datadir/install.log" >&2; exit 70; }
fi
pw=$(printf '%s' "$MYSQL_ROOT_PASSWORD" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
umask 077
cat >"$datadir/init.sql" <<SQL
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
ALTER USER 'root'@'localhost' IDENTIFIED BY '$pw';
SQL
# innodb_flush_log_at_trx_commit=1 and sync_binlog: every commit is on disk before it is acknowledged.
exec mariadbd --no-defaults --datadir="$datadir/db" --port="$port" --bind-address=127.0.0.1 \
  --socket="$datadir/mysqld.sock" --pid-file="$datadir/mysqld.pid" --user=root --tmpdir="$datadir/tmp" \
  --init-file="$datadir/init.sql" --skip-name-resolve \
  --innodb-flush-log-at-trx-commit=1 --innodb-doublewrite=1 \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
  --max-connections=500 --innodb-buffer-pool-size=128M
