# Stand-in for the official rabbitmq:3.13-management image: RabbitMQ from Debian, taking the
# same RABBITMQ_DEFAULT_USER/RABBITMQ_DEFAULT_PASS, data in /var/lib/rabbitmq, node rabbit@HOSTNAME, and
# the management plugin on 15672 (the jobs console reads the queues there as the monitoring user).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server openssl \
    && rm -rf /var/lib/apt/lists/* /var/lib/rabbitmq/* \
    && printf '[rabbitmq_management].\n' >/etc/rabbitmq/enabled_plugins \
    && chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
COPY rabbitmq-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# Executable, as the official image's: the storefront's start script (rabbitmq-container.sh) execs it.
RUN chmod 755 /usr/local/bin/docker-entrypoint.sh
ENV HOME=/var/lib/rabbitmq RABBITMQ_LOGS=-
USER rabbitmq
EXPOSE 5672 15672
ENTRYPOINT ["sh", "/usr/local/bin/docker-entrypoint.sh"]
