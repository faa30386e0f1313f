# syntax=docker/dockerfile:1
# The action's image: a static binary on distroless static (CA certificates,
# tzdata, /etc/passwd; no shell). No USER and no WORKDIR: a docker action
# runs as root with the workspace mounted and the working directory set by
# the runner.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/retention .

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/retention /retention
ENTRYPOINT ["/retention"]
