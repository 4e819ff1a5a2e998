#!/usr/bin/env bash
# Installs the real programs the tests drive: GDAL's ogrinfo/ogr2ogr (the GIS
# client), QGIS headless and OWSLib (Python OGC clients), Chromium (the browser), and
# PostgreSQL 15 with PostGIS 3 (the scale-out engine's tests start a
# throw-away cluster with its initdb and pg_ctl). Debian
# packages; skipped when present. Python modules are looked for in Debian's
# own python3 (a pyenv or virtualenv python3 does not see dist-packages).
set -euo pipefail

need=()
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
# The PostGIS extension files are what the cluster needs besides the server.
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need+=(postgresql-15-postgis-3)
# backup/restore of a PostGIS database (their tests) run pg_dump and pg_restore.
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client-15)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import owslib.ogcapi.features' >/dev/null 2>&1 || need+=(python3-owslib)
# QGIS headless (the gisclient tests): ~170 MB and 132 packages on top of the
# rest, about two minutes to install on 2 cores.
"$py" -c 'import qgis.core' >/dev/null 2>&1 || need+=(python3-qgis)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "test-deps: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
  fi
fi
echo "test-deps: installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
