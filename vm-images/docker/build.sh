#!/usr/bin/env bash
# The docker CLI and dockerd, built from Debian's own source package of exactly the
# docker.io version the guest's root filesystem installed, as Debian builds them except
# for what the guest pays for:
#   - position-dependent, not PIE: Debian builds both as PIE. On i386 a PIE binary reaches
#     every global through a register set up by a call, and ld.so applies the CLI's 148,299
#     relative relocations (16 MB of .data.rel.ro made private) at every start; the guest
#     starts the CLI for every command it runs.
#   - without cgo (so static, no ld.so): the only cgo parts are the CLI's pkcs11 support
#     (hardware keys for `docker trust`) and, in dockerd, the journald log driver, XFS
#     project quotas and the btrfs and devicemapper storage drivers; none can work in the
#     guest (no hardware key, no journald, overlay2 on ext4).
#   - the patches in ./patches, each with its reason and measurement at its top (the CLI
#     without its Kubernetes client libraries, half of every command's start; Debian's
#     docker/distribution reference package compiling its regular expressions once; libnetwork
#     setting IPv6 in process, not by re-executing dockerd; swarm's scheduler comparing an
#     i686 node with a linux/386 image as the same platform).
# The Go toolchain and the Go libraries are Debian's build dependencies of that package,
# installed on the host (`apt-get build-dep`); the sources come through the host's own
# apt mirror. Cross-compiled for 386 on the host: pure Go needs no i386 toolchain.
# Input: $1 = the docker.io package version (from the root filesystem's package list).
# Output: $OUT/docker, $OUT/dockerd, $OUT/build-info.txt
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../debian-source.sh"
version="$1"; OUT="$2"
here="$VM_IMAGES_DIR/docker"
version=${version%+b[0-9]*}      # a binNMU (+b6) is a rebuild of the same source
upstream=${version%%-*}          # 20.10.24+dfsg1
release=${upstream%%+*}          # 20.10.24

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
chmod 755 "$work"   # apt's unprivileged fetcher writes the package lists here
apt_with_sources "$work/apt"
log "docker: Debian's build dependencies of docker.io $version (Go and its libraries, on the host)"
DEBIAN_FRONTEND=noninteractive apt-get "${APT_SOURCES_OPTS[@]}" build-dep -y -qq --arch-only "docker.io=$version" >/dev/null
debian_source docker.io "$version" "$work/src"

# Debian's GOPATH layout (debian/rules): the four components under their import paths, the
# CLI's own vendor tree, everything else from Debian's golang-*-dev packages.
gopath="$work/gopath"
for component in cli:github.com/docker/cli engine:github.com/docker/docker \
  libnetwork:github.com/docker/libnetwork swarmkit:github.com/docker/swarmkit; do
  mkdir -p "$gopath/src/$(dirname "${component#*:}")"
  mv "$work/src/${component%%:*}" "$gopath/src/${component#*:}"
done
# Debian's golang-*-dev packages a patch changes: copied whole in front of /usr/share/gocode,
# so the host's stay as installed. Whole, because Go takes an import path from the first
# GOPATH entry with its directory, even an empty one (a parent made for one package).
for repository in github.com/docker/distribution; do
  mkdir -p "$gopath/src/$(dirname "$repository")"
  cp -r "/usr/share/gocode/src/$repository" "$gopath/src/$repository"
done
for patch in "$here"/patches/*.patch; do
  [ -e "$patch" ] || continue
  log "docker: applying $(basename "$patch")"
  patch -d "$gopath/src/github.com/docker" -p1 --forward --quiet < "$patch"
done

# The same version stamps as Debian's binaries (debian/rules and hack/make.sh): the
# commits from Debian's helper tables, the build time from the changelog's date.
cli_commit=$(awk -F ': ' -v v="$release" '$1 == v {print $2}' "$work/src/debian/helpers/cli-gitcommits")
engine_commit=$(awk -F ': ' -v v="$release" '$1 == v {print $2}' "$work/src/debian/helpers/engine-gitcommits")
[ -n "$cli_commit" ] && [ -n "$engine_commit" ] || die "docker: no git commits for $release in Debian's helper tables"
epoch=$(dpkg-parsechangelog -l "$work/src/debian/changelog" -S Timestamp)
cli_time=$(date -u -d "@$epoch" +"%Y-%m-%dT%H:%M:%SZ")
engine_time=$(date -u -d "@$epoch" --rfc-3339 ns | sed -e 's/ /T/')

export GOPATH="$gopath:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS= \
  GOOS=linux GOARCH=386 GO386=sse2 CGO_ENABLED=0 GOCACHE="$work/go-build"
# The patched library's own tests, natively (they compare its patterns with Debian's).
GOARCH=amd64 go test -count=1 github.com/docker/distribution/reference >/dev/null \
  || die "docker: the patched github.com/docker/distribution/reference fails its tests"
cli=github.com/docker/cli
(cd "$gopath/src/$cli" && go build -trimpath -o "$OUT/docker" \
  -ldflags "-s -w -X $cli/cli/version.Version=$upstream -X $cli/cli/version.GitCommit=$cli_commit -X $cli/cli/version.BuildTime=$cli_time" \
  ./cmd/docker)
engine=github.com/docker/docker
# Debian's engine tags (apparmor seccomp) and upstream's static ones (netgo osusergo
# static_build); the graph drivers that need cgo are left out (the guest uses overlay2).
(cd "$gopath/src/$engine" && go build -trimpath -o "$OUT/dockerd" \
  -tags "netgo osusergo static_build apparmor seccomp exclude_graphdriver_devicemapper exclude_graphdriver_btrfs" \
  -ldflags "-s -w -X $engine/dockerversion.Version=$upstream -X $engine/dockerversion.GitCommit=$engine_commit -X $engine/dockerversion.BuildTime=$engine_time -X $engine/dockerversion.IAmStatic=true -X $engine/dockerversion.ProductName=docker" \
  ./cmd/dockerd)
{
  echo "docker.io $version from Debian's source package, built by vm-images/docker/build.sh"
  echo "$(go version | cut -d' ' -f3), cross-compiled for linux/386, CGO_ENABLED=0, not PIE"
  ls "$here"/patches/*.patch 2>/dev/null | xargs -rn1 basename | sed 's/^/patch: /'
} > "$OUT/build-info.txt"
log "docker: $(du -h "$OUT/docker" | cut -f1) docker, $(du -h "$OUT/dockerd" | cut -f1) dockerd ($(go version | cut -d' ' -f3))"
