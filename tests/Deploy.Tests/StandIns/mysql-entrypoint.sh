#!/bin/sh
# The parts of the official mysql entrypoint the storefront's compose file relies on
# (MYSQL_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD_FILE).
set -eu
if [ -n "${MYSQL_ROOT_PASSWORD_FILE:-}" ]; then MYSQL_ROOT_PASSWORD=$(cat "$MYSQL_ROOT_PASSWORD_FILE"); fi
: "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD is not set}"
datadir=/var/lib/mysql
chown mysql:mysql "$datadir" /run/mysqld
if [ ! -d "$datadir/mysql" ]; then
  mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  until mariadb-admin --socket=/run/mysqld/init.sock -uroot ping >/dev/null 2>&1; do sleep 0.2; done
  pw=$(printf '%s' "$MYSQL_ROOT_PASSWORD" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
  mariadb --socket=/run/mysqld/init.sock -uroot <<SQL
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '%');
FLUSH PRIVILEGES;
CREATE USER 'root'@'%' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
ALTER USER 'root'@'localhost' IDENTIFIED BY '$pw';
FLUSH PRIVILEGES;
SQL
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] || continue
    echo "running $f"
    MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb --socket=/run/mysqld/init.sock -uroot <"$f"
  done
  kill "$pid"
  wait "$pid" || true
fi
exec mariadbd --user=mysql --datadir="$datadir" --bind-address=0.0.0.0 --skip-name-resolve \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci "$@"
