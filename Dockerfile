# Tailcar's image: a static binary on an empty base, run as a non-root user.
#
# The build stage needs a Swift 6.3 toolchain image (SWIFT_IMAGE); see README, "Image".
ARG SWIFT_IMAGE=swift:6.3.1-bookworm
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libuv1-dev libzstd-dev liblz4-dev libyaml-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY CSources CSources
COPY Sources Sources
RUN swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product tailcar \
 && mkdir -p /rootfs/var/lib/tailcar /rootfs/tmp \
 && cp .build/release/tailcar /rootfs/tailcar \
 && strip /rootfs/tailcar \
 && chown 65532:65532 /rootfs/var/lib/tailcar \
 && chmod 1777 /rootfs/tmp

FROM scratch AS runtime
COPY --from=build /rootfs/ /
USER 65532:65532
ENV TAILCAR_CHECKPOINT_DIR=/var/lib/tailcar
ENTRYPOINT ["/tailcar"]
CMD ["help"]
