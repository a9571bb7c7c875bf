# Stand-in for the MinIO image of deploy/compose.main-server.yaml: s3rver, the S3 server the other tests run
# (AppHost/LocalServers/s3rver.sh), on Node.js from the Debian mirror. The build context is the s3rver that
# s3rver.sh installs into .data/tools (npm on this machine; the registry's TLS is not trusted inside a build).
# It takes no MinIO arguments: data in /data, port 9000, the bucket S3_BUCKET made at start, and s3rver's fixed
# keys S3RVER/S3RVER (the test writes those as the storage-access-key and storage-secret-key secrets).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown nobody:nogroup /data
COPY node_modules /opt/s3rver/node_modules
USER nobody
EXPOSE 9000
ENTRYPOINT ["sh", "-c", "exec node /opt/s3rver/node_modules/s3rver/bin/s3rver.js -d /data -a 0.0.0.0 -p 9000 --silent --no-vhost-buckets --configure-bucket \"${S3_BUCKET:-storefront-images}\"", "s3rver"]
