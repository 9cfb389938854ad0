# Sourced by the end-to-end shell tests: a scratch folder that becomes the working directory
# (removed on exit unless KEEP_WORK is set), `check DESCRIPTION COMMAND...`, which runs the
# command and counts it in $passed or, printing "FAIL: DESCRIPTION", in $failures, and
# `digit_pairs`, the corpus of the tests' tiny translation models, `compare_models`, and the MPI
# tests' `mpi_loopback`, `rank_pid` and `wait_for_step`.
work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
cd "$work"
failures=0
passed=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then
    passed=$((passed + 1))
    return 0
  fi
  echo "FAIL: $what"
  failures=$((failures + 1))
  return 1
}

# digit_pairs N SEED LONGEST: N lines "d d d<TAB>d d d", a source of 2 to LONGEST random digits and
# its reversal; the same lines for the same arguments (awk's srand).
digit_pairs() {
  awk -v n="$1" -v seed="$2" -v longest="$3" 'BEGIN { srand(seed); for (i = 0; i < n; ++i) {
    len = 2 + int(rand() * (longest - 1)); s = ""; r = "";
    for (j = 0; j < len; ++j) { d = int(rand() * 10); s = s (j ? " " : "") d; r = d (j ? " " : "") r }
    print s "\t" r } }'
}

# train_digit_model STEPS: the tiny digit-reversal model of the translate and fast-inference tests
# (train.tsv, test.tsv, test.src, tiny.yaml in the working folder; the model in run/model), and
# the check that training exited 0.
train_digit_model() {
  digit_pairs 1000 1 8 > train.tsv
  digit_pairs 80 3 8 > test.tsv
  cut -f1 test.tsv > test.src
  cat > tiny.yaml <<YAML
data: {train: train.tsv, batch_tokens: 256, max_length: 20}
vocab: {size: 16}
encoder: {embed_size: 16, hidden_size: 32, layers: 1, dropout: 0.0}
decoder: {embed_size: 16, hidden_size: 32, dropout: 0.0}
train: {max_steps: $1, valid_every: 0, log_every: 200, learning_rate: 0.01, warmup_steps: 20,
        label_smoothing: 0.0, patience: 0}
YAML
  "$s2s" train -r tiny.yaml -o run >train.log 2>&1
  check "train exits 0" [ $? -eq 0 ]
}

# Relative difference of every tensor of two safetensors files: ||a - b|| / ||b|| <= tol.
compare_models() {  # compare_models A B TOL
  python3 - "$1" "$2" "$3" <<'PY'
import json, math, struct, sys
def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__": continue
        fmt = {"F32": "f", "F64": "d"}[info["dtype"]]
        begin, end = info["data_offsets"]
        out[name] = struct.unpack("<%d%s" % ((end - begin) // struct.calcsize(fmt), fmt), data[begin:end])
    return out
a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
assert a.keys() == b.keys(), "different tensors"
worst = 0.0
for name in a:
    diff = math.sqrt(sum((x - y) ** 2 for x, y in zip(a[name], b[name])))
    norm = math.sqrt(sum(y * y for y in b[name])) or 1.0
    worst = max(worst, diff / norm)
print("largest relative difference %.3g over %d tensors" % (worst, len(a)))
sys.exit(0 if worst <= tol else 1)
PY
}

# mpi_loopback S2S: the MPI tests' launcher for loopback runs in a container, in the array mpi:
# 2 ranks on this machine's cores (oversubscribed), shared memory, root allowed, never ssh;
# mpi[3] is the count. Skips the test (exit 77) without mpirun or an s2s built with MPI.
mpi_loopback() {
  if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (apt-get install openmpi-bin)"; exit 77; fi
  if ! "$1" version | grep -qi "mpi: *on"; then echo "SKIP: s2s was built without MPI (S2S_MPI)"; exit 77; fi
  mpi=(mpirun --oversubscribe -np 2 --mca btl self,vader)
  [ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
  export OMPI_MCA_plm_rsh_agent=""
}

# The pid of rank R of the mpirun job whose pid is $1 (Open MPI sets OMPI_COMM_WORLD_RANK).
rank_pid() {
  for p in $(pgrep -f "$s2s train"); do
    if tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
      [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$1" ] && { echo "$p"; return; }
    fi
  done
}
wait_for_step() { for _ in $(seq 200); do grep -q "^step" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
