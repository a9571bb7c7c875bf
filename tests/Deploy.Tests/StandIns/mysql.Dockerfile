# Stand-in for the official mysql:8.4 image: MariaDB from Debian, taking the same environment
# (MYSQL_ROOT_PASSWORD), arguments (--option=value appended to the server), data folder
# (/var/lib/mysql) and first-start scripts (/docker-entrypoint-initdb.d/*.sql).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server mariadb-client \
    && rm -rf /var/lib/apt/lists/* /var/lib/mysql \
    && mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d \
    && chown mysql:mysql /var/lib/mysql /run/mysqld
COPY mysql-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["sh", "/usr/local/bin/docker-entrypoint.sh"]
EXPOSE 3306
