#!/usr/bin/env bash
# Install Debian's Chromium and CJK fonts for the headless map checks, and QGIS + GDAL (python3-qgis,
# validate_gpkg.py) for the client checks of tests/test_clients.py, when missing. Idempotent: apt runs only
# when something is missing (about 1.5 min for QGIS + GDAL on a fresh Debian 12 machine).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || need+=(python3-qgis qgis-providers)
/usr/bin/python3 -c "import osgeo_utils.samples.validate_gpkg" >/dev/null 2>&1 || need+=(python3-gdal)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "install_browser: please install ${need[*]} (apt-get install ${need[*]}); browser and QGIS tests will be skipped (they fail on CI)" >&2
  exit 0
fi
echo "install_browser: installing ${need[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
