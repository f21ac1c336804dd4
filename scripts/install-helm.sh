#!/usr/bin/env bash
# Builds the pinned Helm from source into .devinfra/bin/helm (tests/helm.rs uses it).
#
#   scripts/install-helm.sh          (or `make helm`)
#
# get.helm.sh and GitHub are not reachable from our machines, the Go module proxy is:
# Helm is a Go module, so `go install` fetches and compiles it. Idempotent: a
# .devinfra/bin/helm that already reports the pinned version is kept. Each build
# appends its duration to .devinfra/bin/helm.build.log.
#
# HELM_VERSION: the newest v3 release whose go.mod the installed Go satisfies
# (v3.22.0 needs Go >= 1.26.0). Override with HELM_VERSION=v3.x.y.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELM_VERSION=${HELM_VERSION:-v3.22.0}
BIN=$ROOT/.devinfra/bin
HELM=$BIN/helm
MODULE=helm.sh/helm/v3

log() { echo "[install-helm] $*" >&2; }

if [[ -x $HELM ]] && [[ $("$HELM" version --template '{{.Version}}' 2>/dev/null) == "$HELM_VERSION" ]]; then
    log "$HELM is $HELM_VERSION already"
    exit 0
fi

# The Go tarball installs to /usr/local/go, which login shells may not have on PATH.
command -v go >/dev/null || export PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || { log "go is not installed (needed to build Helm)"; exit 1; }
# Use the installed Go only: an older one fails with go.mod's `go` line below
# instead of silently downloading a newer toolchain.
export GOTOOLCHAIN=local
# -mod=mod: resolve the module graph from Helm's own go.mod (module mode, no vendor/).
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
# A static binary, as Helm's own release builds; no C compiler needed.
export CGO_ENABLED=0

log "building helm $HELM_VERSION with $(go version | cut -d' ' -f3) on $(nproc) cores"
start=$SECONDS

# Helm's Makefile stamps the version and the Kubernetes version its client libraries
# target (client-go v0.N -> 1.N); without them `helm version` says "v3.22" and lint
# checks API deprecations against Kubernetes 1.20. Read client-go's version from the
# pinned release's go.mod, as that Makefile does.
gomod=$(go mod download -json "$MODULE@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
client_go=$(awk '$1 == "k8s.io/client-go" { print $2 }' "$gomod")
k8s_minor=$(cut -d. -f2 <<<"$client_go")
[[ $k8s_minor =~ ^[0-9]+$ ]] || { log "cannot read k8s.io/client-go's version from $gomod"; exit 1; }
ldflags="-s -w -X $MODULE/internal/version.version=$HELM_VERSION"
for pkg in pkg/lint/rules pkg/chartutil; do
    ldflags+=" -X $MODULE/$pkg.k8sVersionMajor=1 -X $MODULE/$pkg.k8sVersionMinor=$k8s_minor"
done

mkdir -p "$BIN"
GOBIN=$BIN go install -trimpath -ldflags "$ldflags" "$MODULE/cmd/helm@$HELM_VERSION"

took=$((SECONDS - start))
actual=$("$HELM" version --template '{{.Version}}')
[[ $actual == "$HELM_VERSION" ]] || { log "built helm reports $actual, not $HELM_VERSION"; exit 1; }
echo "$(date -u +%FT%TZ) helm $HELM_VERSION $(go version | cut -d' ' -f3) $(nproc) cores: ${took} s" >>"$BIN/helm.build.log"
log "installed $HELM ($HELM_VERSION, kube 1.$k8s_minor) in ${took} s"
