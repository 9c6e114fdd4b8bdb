# Tailcar's image: a fully static binary on an empty base, run as a non-root user (65532).
#
# Stage `build` needs a Swift 6.3 toolchain image (SWIFT_IMAGE) and network access for apt-get; stage
# `runtime` is FROM scratch (plus Debian's static busybox as the shell of the vendor's commands).
# Where no image can be pulled, scripts/image.sh builds the binary on the host and builds
# deploy/image/Containerfile.prebuilt, whose content is the runtime stage's (deploy/README.md).
# Both stage the root filesystem with deploy/image/stage-rootfs.sh.
ARG SWIFT_IMAGE=swift:6.3.1-bookworm
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libuv1-dev libzstd-dev liblz4-dev libdeflate-dev libyaml-dev libssl-dev binutils ca-certificates \
      busybox-static tzdata \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY CSources CSources
COPY Sources Sources
COPY deploy/image /usr/local/lib/tailcar-image
RUN swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product tailcar \
 && sh /usr/local/lib/tailcar-image/stage-rootfs.sh .build/release/tailcar /stage

FROM scratch AS runtime
COPY --from=build /stage/rootfs/ /
COPY --from=build --chown=65532:65532 /stage/state/ /var/lib/tailcar/
USER 65532:65532
ENV PATH=/usr/local/bin:/usr/bin:/bin TAILCAR_CHECKPOINT_DIR=/var/lib/tailcar
ENTRYPOINT ["/usr/local/bin/tailcar"]
CMD ["help"]
