#!/usr/bin/env bash
# The documented offline install of the Python package (docs/python.md), tested: a virtual
# environment made from Debian's python3 with --system-site-packages, `pip install
# --no-build-isolation ./python` (no package index is reached), reusing the build tree given, then
# the README's example from another folder: the installed package, not the build tree's.
# Usage: pip_install_test.sh PYTHON BUILD_DIR S2S_BINARY
set -u
python=$1 build=$2 s2s=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/tests/check_lib.sh"

"$python" -m venv --system-site-packages venv
check "venv is made" [ -x venv/bin/python ]
S2S_BUILD_DIR=$build PIP_NO_INDEX=1 venv/bin/pip install -q --no-build-isolation --no-deps \
  "$repo/python" >pip.log 2>&1
status=$?
check "pip install --no-build-isolation exits 0 (pip.log: $(tail -3 pip.log | tr '\n' ' '))" [ $status -eq 0 ]

# A tiny model, then the README's three lines in a fresh interpreter, away from the build tree.
awk 'BEGIN { srand(4); for (i = 0; i < 600; ++i) { n = 2 + int(rand() * 5); s = ""; r = "";
  for (j = 0; j < n; ++j) { d = int(rand() * 10); s = s (j ? " " : "") d; r = d (j ? " " : "") r }
  print s "\t" r } }' > train.tsv
printf 'data: {train: train.tsv, batch_tokens: 256}\nvocab: {size: 16}\nencoder: {embed_size: 8, hidden_size: 16, layers: 1}\ndecoder: {embed_size: 8, hidden_size: 16}\ntrain: {max_steps: 60, valid_every: 0, log_every: 30}\n' > tiny.yaml
"$s2s" train -r tiny.yaml -o run >train.log 2>&1
check "s2s train exits 0" [ $? -eq 0 ]
mkdir elsewhere && cd elsewhere
../venv/bin/python - > ../example.txt 2>&1 <<'PY'
import s2s
t = s2s.Translator("../run/model", device="cpu", threads=2)
print(t.translate(["1 2 3"], beam=5, n_best=2, alignment="hard")[0][0].text)
print(s2s.__file__)
PY
status=$?
cd ..
check "the example runs in the venv ($(tr '\n' ' ' < example.txt))" [ $status -eq 0 ]
check "the package is the venv's, not the build tree's" grep -q "/venv/lib/python.*/site-packages/s2s/__init__.py" example.txt
printf '1 2 3\n' | "$s2s" translate -m run/model --beam 5 > cli.txt 2>/dev/null
check "the installed package translates as s2s translate" [ "$(head -1 example.txt)" = "$(cat cli.txt)" ]
check "OpenCV's dnn helper is installed beside the module" test -f venv/lib/python*/site-packages/s2s/libs2s_image_dnn.so

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
