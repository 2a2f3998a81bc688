#!/usr/bin/env bash
# Makes the base images docker/Dockerfile starts from, debian:bookworm and debian:bookworm-slim, in
# the local podman store. Needed where no container registry is reachable (CI here): the images are
# built with debootstrap from the machine's own apt mirror instead of pulled. Does nothing when both
# exist and were made by this version of the script (the store persists between runs); `--force`
# makes them again. Needs root.
#   debian:bookworm       debootstrap --variant=minbase bookworm (Essential + apt), apt caches and
#                         package lists removed, sources for bookworm, -updates and -security, and
#                         apt told to keep no caches (as Docker's debian images do)
#   debian:bookworm-slim  the same, with /usr/share/{doc,man,info,locale,...} removed (copyrights
#                         kept) and a dpkg rule that keeps later installs from adding them back
set -euo pipefail

# Images made by an older version of this script are made again: the label holds the script's hash.
version="$(sha256sum "$0" | cut -c1-16)"
made_here() { [[ "$(podman image inspect --format '{{index .Config.Labels "sma.base-images"}}' "$1" 2>/dev/null)" == "$version" ]]; }
if [[ "${1:-}" != --force ]] && made_here debian:bookworm && made_here debian:bookworm-slim; then
  echo "base images debian:bookworm and debian:bookworm-slim exist"
  exit 0
fi

# The machine's mirrors (deb822 or one-line sources), so the image's apt goes where the host's goes.
sources=(/etc/apt/sources.list.d/*.sources /etc/apt/sources.list)
mirror_of() { cat "${sources[@]}" 2>/dev/null | grep -v "^ *#" | grep -oE "https?://[^ ]+/$1/?( |\$)" | head -n 1 | tr -d ' ' | sed 's:/$::' || true; }
mirror="$(mirror_of debian)"; mirror="${mirror:-http://deb.debian.org/debian}"
security="$(mirror_of debian-security)"; security="${security:-http://deb.debian.org/debian-security}"

work="$(mktemp -d /var/tmp/sma-rootfs.XXXXXX)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
echo "debootstrap minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# What debootstrap leaves behind that an image should not carry: downloaded .debs, package lists.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Downloaded packages and apt's binary caches would otherwise stay in every image layer that
# installs something (80 MB in the runtime stage).
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
EOF

import_as() {
  tar -C "$root" --numeric-owner -c . \
    | podman import --quiet --change 'CMD ["bash"]' --change "LABEL sma.base-images=$version" - "$1" >/dev/null
  echo "made $1"
}
import_as debian:bookworm

# Slim: documentation and translations nobody reads in a container, now and for later installs.
cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/{man,info,groff,lintian,locale}/*
import_as debian:bookworm-slim
