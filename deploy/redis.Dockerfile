# Redis for hosts with no registry (compose.offline.yaml): Debian's redis-server on the offline base image that
# `python -m sandbox build` makes (selfdebug-base:bookworm). Where a registry answers, compose.yaml uses redis:7.
ARG BASE=selfdebug-base:bookworm
FROM ${BASE}
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server", "--dir", "/data", "--protected-mode", "no"]
