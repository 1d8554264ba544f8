#!/usr/bin/env bash
# Refresh the vendored Leaflet in templates/vendor/leaflet/ from the npm registry.
#
#   bash templates/vendor/refresh-leaflet.sh [VERSION]     (default: the version served today, 1.9.4)
#
# The build never fetches anything: the server embeds these files (src/web/assets.rs). After a
# new version, change LEAFLET_VERSION in src/web/assets.rs (it is in the files' addresses, which
# are cached for a year) and the version in the README.
set -euo pipefail

version="${1:-1.9.4}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/leaflet"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "leaflet@$version" >/dev/null)
tar -xzf "$work/leaflet-$version.tgz" -C "$work"
license="$(node -p "require('$work/package/package.json').license")"
if [ "$license" != "BSD-2-Clause" ]; then
    echo "leaflet@$version is licensed $license, not BSD-2-Clause: check before vendoring" >&2
    exit 1
fi
rm -rf "$dest"
mkdir -p "$dest/images"
cp "$work/package/dist/leaflet.js" "$work/package/dist/leaflet.css" "$work/package/LICENSE" "$dest/"
cp "$work/package/dist/images/"*.png "$dest/images/"
echo "templates/vendor/leaflet now holds leaflet@$version ($license)"
