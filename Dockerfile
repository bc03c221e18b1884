# shipcheck in a small image, for running it in CI or on a server.
#
#   docker build -t shipcheck .
#   docker run --rm -v "$PWD:/work" -w /work -e GITHUB_TOKEN shipcheck check
#
# Untested here: the machine this project is built on has no Docker daemon (see
# docs/releasing.md). The image holds shipcheck and git; flyctl is not included — add it with
# `curl -L https://fly.io/install.sh | sh` in a derived image if your checks call it.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p shipcheck \
 && strip target/release/shipcheck

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 shipcheck
COPY --from=build /src/target/release/shipcheck /usr/local/bin/shipcheck
USER shipcheck
ENTRYPOINT ["shipcheck"]
CMD ["--help"]
