# The ecgtrain image: ecgserve on 0.0.0.0:8080 by default, with ecgtrain, ecgeval and ecgpredict.
#   docker build -t ecgtrain .                      (or: podman build --format docker -t ecgtrain .)
#   docker run --rm -p 8080:8080 ecgtrain
# Plain Dockerfile syntax (no heredocs, no COPY --link) so that Docker, podman and buildah all build it.

# ---- build: compile the programs for x86-64-v3 (any CPU from about 2015 on), not for this machine ----
FROM debian:bookworm-slim AS build
ARG MESON_OPTIONS=-Dcpu=portable
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc libc6-dev pkg-config meson ninja-build libopenblas-dev libfftw3-dev libhdf5-dev libyaml-dev \
      libexpat1-dev libmicrohttpd-dev zlib1g-dev libcunit1-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --buildtype=release --prefix=/usr/local ${MESON_OPTIONS} \
 && ninja -C /build tools/ecgserve tools/ecgtrain tools/ecgeval tools/ecgpredict
# The programs, and what they read by default (the shipped model, the configs) in one data directory.
RUN mkdir -p /stage/usr/local/bin /stage/usr/local/share/ecgtrain \
 && cp /build/tools/ecgserve /build/tools/ecgtrain /build/tools/ecgeval /build/tools/ecgpredict /stage/usr/local/bin/ \
 && strip /stage/usr/local/bin/* \
 && cp -r weights configs /stage/usr/local/share/ecgtrain/

# ---- runtime: the shared libraries the programs link, curl for the health check, a non-root user ----
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libopenblas0-pthread libfftw3-single3 libhdf5-103-1 libyaml-0-2 libexpat1 libmicrohttpd12 libgomp1 \
      zlib1g curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /home/ecg --shell /usr/sbin/nologin ecg
COPY --from=build /stage/ /
# Relative default paths (weights/..., configs/...) resolve here; runs of ecgtrain go to a mounted
# volume or the user's home (-w /home/ecg).
WORKDIR /usr/local/share/ecgtrain
USER ecg
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
CMD ["ecgserve", "--host", "0.0.0.0"]
