#!/usr/bin/env bash
# Installs the page's front-end libraries from npm (versions pinned in
# package-lock.json) and copies what the page loads into static/vendor/, which
# the binary embeds. Nothing is fetched by the page at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=static/vendor
if [ -f "$vendor/leaflet.js" ] && [ "$vendor/leaflet.js" -nt package-lock.json ] && [ -f "$vendor/axe.min.js" ]; then
  exit 0 # up to date
fi
command -v npm >/dev/null || { echo "assets: npm is needed to fetch Leaflet (Debian: apt-get install npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
mkdir -p "$vendor/images"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$vendor/"
cp node_modules/leaflet/dist/images/*.png "$vendor/images/"
cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
   node_modules/leaflet.markercluster/dist/MarkerCluster.css \
   node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css "$vendor/"
# axe-core is for the browser tests (e2e injects it to check accessibility);
# the page itself never loads it.
cp node_modules/axe-core/axe.min.js "$vendor/"
cp node_modules/axe-core/LICENSE "$vendor/LICENSE.axe-core"
# Licences travel with the code they cover.
cp node_modules/leaflet/LICENSE "$vendor/LICENSE.leaflet"
cp node_modules/leaflet.markercluster/MIT-LICENCE.txt "$vendor/LICENSE.markercluster" 2>/dev/null || \
  cp node_modules/leaflet.markercluster/LICENSE* "$vendor/LICENSE.markercluster" 2>/dev/null || true
touch "$vendor/leaflet.js"
echo "assets: Leaflet $(node -p "require('./node_modules/leaflet/package.json').version"), markercluster $(node -p "require('./node_modules/leaflet.markercluster/package.json').version") → $vendor"
