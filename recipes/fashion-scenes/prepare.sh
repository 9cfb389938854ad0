#!/usr/bin/env bash
# Prepares the fashion-scenes captioning data: DATA_DIR/{train,dev,test}/NNNNNN.png (96x96
# grayscale scenes) and DATA_DIR/{train,dev,test}.json (COCO captions format, 5 captions each).
#
#   recipes/fashion-scenes/prepare.sh [DATA_DIR] [--train N] [--dev N] [--test N] [--seed S]
#
# DATA_DIR defaults to recipes/fashion-scenes/data; the counts default to 100000 / 500 / 1000
# scenes and the seed to 1 (the same options always give the same files). Fashion-MNIST comes
# from Debian's dataset-fashion-mnist package: `apt-get download` fetches the .deb (nothing is
# installed on the system) and `dpkg-deb -x` unpacks it into DATA_DIR/pkg. render.py (Python
# standard library only) then draws the scenes and writes their captions. Idempotent: when all
# three JSON files exist it does nothing (delete DATA_DIR, or its *.json, to render again).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="$here/data"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  data="$1"
  shift
fi
mnist="$data/pkg/usr/share/datasets/fashion-mnist"
splits=("$data/train.json" "$data/dev.json" "$data/test.json")

have_splits() {
  local f
  for f in "${splits[@]}"; do [ -f "$f" ] || return 1; done
}

if have_splits; then
  echo "prepare: data already prepared in $data (delete its *.json to render again)"
  exit 0
fi

command -v python3 >/dev/null || { echo "prepare: python3 is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$data"

if [ ! -f "$mnist/t10k-labels-idx1-ubyte.gz" ]; then
  for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "prepare: $tool is missing: a Debian-based system is needed" >&2; exit 1; }
  done
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # apt-get download writes into the current folder and needs no root: as root it only warns
  # that the '_apt' user cannot write to the temp folder and downloads unsandboxed (harmless,
  # that line is dropped); as another user it works as it is. Other output goes to a log that
  # is shown only when the download fails.
  echo "prepare: downloading the Debian package dataset-fashion-mnist (~31 MB)"
  if ! (cd "$tmp" && apt-get download -q dataset-fashion-mnist) >"$tmp/apt.log" 2>&1; then
    grep -v "unsandboxed as root" "$tmp/apt.log" >&2 || true
    echo "prepare: 'apt-get download dataset-fashion-mnist' failed. If apt says the package cannot" >&2
    echo "  be located, the package lists are missing or stale: run 'apt-get update' (as root) and" >&2
    echo "  try again. The package is in Debian main (bookworm: 0.0~git20200523.55506a9-1); the" >&2
    echo "  machine needs network access to a Debian mirror." >&2
    exit 1
  fi
  deb=("$tmp"/dataset-fashion-mnist_*.deb)
  [ -f "${deb[0]}" ] || { echo "prepare: apt-get download produced no dataset-fashion-mnist .deb" >&2; exit 1; }
  # Unpack into a scratch folder and move it into place, so a present DATA_DIR/pkg is complete.
  rm -rf "$data/pkg.tmp"
  dpkg-deb -x "${deb[0]}" "$data/pkg.tmp"
  [ -f "$data/pkg.tmp/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz" ] ||
    { echo "prepare: ${deb[0]##*/} has no usr/share/datasets/fashion-mnist/" >&2; exit 1; }
  rm -rf "$data/pkg"
  mv "$data/pkg.tmp" "$data/pkg"
  echo "prepare: unpacked $(basename "${deb[0]}") into $data/pkg"
else
  echo "prepare: Fashion-MNIST already unpacked: $mnist"
fi

echo "prepare: rendering scenes"
python3 "$here/render.py" "$mnist" "$data" "$@"
have_splits || { echo "prepare: render.py did not write all of ${splits[*]}" >&2; exit 1; }
python3 "$here/check.py" --references "$data/test.json"
