#!/usr/bin/env bash
# Prepares the German->English data: DATA_DIR/train.tsv, dev.tsv, test.tsv (German<TAB>English).
#
#   recipes/de-en/prepare.sh [DATA_DIR]      (default: recipes/de-en/data)
#
# The text is the Ding dictionary from Debian's trans-de-en package: `apt-get download` fetches
# the .deb (nothing is installed on the system) and `dpkg-deb -x` unpacks it into DATA_DIR/pkg.
# extract.py then applies the extraction rules (see README.md). Idempotent: a step whose final
# files exist is skipped, so a second run costs nothing; delete DATA_DIR to start over.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${1:-$here/data}"
dict="$data/pkg/usr/share/trans/de-en"
splits=("$data/train.tsv" "$data/dev.tsv" "$data/test.tsv")

have_splits() {
  local f
  for f in "${splits[@]}"; do [ -f "$f" ] || return 1; done
}

count_lines() {
  local f
  for f in "${splits[@]}"; do printf '%-8s %8d pairs  %s\n' "$(basename "$f" .tsv)" "$(wc -l <"$f")" "$f"; done
}

if have_splits; then
  echo "prepare: data already prepared in $data"
  count_lines
  exit 0
fi

command -v python3 >/dev/null || { echo "prepare: python3 is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$data"

if [ ! -f "$dict" ]; then
  for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "prepare: $tool is missing: a Debian-based system is needed" >&2; exit 1; }
  done
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # apt-get download writes into the current folder. As root it warns that the '_apt' user
  # cannot write to the temp folder and downloads unsandboxed: harmless, so that line is dropped.
  # Other output goes to the log, shown only when the download fails.
  echo "prepare: downloading the Debian package trans-de-en (Ding dictionary, ~6 MB)"
  if ! (cd "$tmp" && apt-get download -q trans-de-en) >"$tmp/apt.log" 2>&1; then
    grep -v "unsandboxed as root" "$tmp/apt.log" >&2 || true
    echo "prepare: 'apt-get download trans-de-en' failed. If apt says the package cannot be" >&2
    echo "  located, the package lists are missing or stale: run 'apt-get update' (as root) and" >&2
    echo "  try again. The package is in Debian main (bookworm: trans-de-en 1.9); the machine" >&2
    echo "  needs network access to a Debian mirror." >&2
    exit 1
  fi
  deb=("$tmp"/trans-de-en_*.deb)
  [ -f "${deb[0]}" ] || { echo "prepare: apt-get download produced no trans-de-en .deb" >&2; exit 1; }
  # Unpack into a scratch folder and move it into place, so a present DATA_DIR/pkg is complete.
  rm -rf "$data/pkg.tmp"
  dpkg-deb -x "${deb[0]}" "$data/pkg.tmp"
  [ -f "$data/pkg.tmp/usr/share/trans/de-en" ] ||
    { echo "prepare: ${deb[0]##*/} has no usr/share/trans/de-en" >&2; exit 1; }
  rm -rf "$data/pkg"
  mv "$data/pkg.tmp" "$data/pkg"
  echo "prepare: unpacked $(basename "${deb[0]}") into $data/pkg"
else
  echo "prepare: dictionary already unpacked: $dict"
fi

echo "prepare: extracting pairs"
python3 "$here/extract.py" "$dict" "$data"
have_splits || { echo "prepare: extract.py did not write all of ${splits[*]}" >&2; exit 1; }
count_lines
