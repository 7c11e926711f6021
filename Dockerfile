# Builds the easd binary and ships it on a small Debian base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=container
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/easd ./cmd/easd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /nonexistent --shell /usr/sbin/nologin easd
COPY --from=build /out/easd /usr/local/bin/easd
USER easd
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/easd"]
CMD ["serve"]
