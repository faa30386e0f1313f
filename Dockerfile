# syntax=docker/dockerfile:1
# The action's image: the static binary on scratch, with the CA roots
# compiled in (golang.org/x/crypto/x509roots/fallback, imported by main.go)
# and an empty /tmp, the only two things the program used from the old
# distroless base. No USER and no WORKDIR: a docker action runs as root with
# the workspace mounted and the working directory set by the runner.
# internal/release/image_test.go builds this image without Docker, from
# these lines, and runs the binary it put in the layer.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/retention .
RUN mkdir -m 1777 /out/tmp

FROM scratch
COPY --from=build /out/ /
ENTRYPOINT ["/retention"]
