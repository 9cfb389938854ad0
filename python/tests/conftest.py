"""Fixtures of the s2s package's tests: tiny models trained once per session through s2s.train
itself (a digit-reversal translator, a message -> reply model, a captioner naming where a square
is), and the s2s binary the package's results are compared with."""
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import s2s

REPO = Path(__file__).resolve().parents[2]
REPLIES = ["yes please", "no thanks", "see you soon", "sounds good to me", "i will check",
           "thanks a lot", "not today", "call me later", "on my way", "good night"]


def digit_lines(n, seed, reply=False):
    """Random digit sequences, with their reversal (or the reply their first digit picks)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        digits = [str(rng.randrange(10)) for _ in range(rng.randrange(2, 9))]
        out.append((" ".join(digits), REPLIES[int(digits[0])] if reply else " ".join(digits[::-1])))
    return out


TINY = {
    "vocab.size": 16, "encoder.embed_size": 16, "encoder.hidden_size": 32, "encoder.layers": 1,
    "encoder.dropout": 0.0, "decoder.embed_size": 16, "decoder.hidden_size": 32,
    "decoder.dropout": 0.0, "train.max_steps": 300, "train.valid_every": 0, "train.log_every": 100,
    "train.learning_rate": 0.01, "train.warmup_steps": 20, "train.label_smoothing": 0.0,
    "train.patience": 0, "data.batch_tokens": 256, "data.max_length": 20,
}


def write_pairs(path, pairs):
    path.write_text("".join(f"{s}\t{t}\n" for s, t in pairs))


@pytest.fixture(scope="session")
def s2s_binary():
    binary = os.environ.get("S2S_BINARY")
    if not binary:
        pytest.skip("S2S_BINARY is not set (ctest sets it to the build's s2s)")
    return binary


def run_s2s(binary, *args, stdin=None):
    done = subprocess.run([binary, *args], input=stdin, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode()


@pytest.fixture(scope="session")
def translation_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("translate")
    write_pairs(root / "train.tsv", digit_lines(1000, 1))
    (root / "recipe.yaml").write_text("data: {train: train.tsv}\n")
    s2s.train(str(root / "recipe.yaml"), str(root / "run"), overrides=TINY, on_log=lambda r: None)
    return str(root / "run" / "model")


@pytest.fixture(scope="session")
def test_lines():
    return [source for source, _ in digit_lines(60, 3)]


@pytest.fixture(scope="session")
def reply_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("reply")
    write_pairs(root / "train.tsv", digit_lines(1500, 1, reply=True))
    (root / "recipe.yaml").write_text("data: {train: train.tsv}\n")
    s2s.train(str(root / "recipe.yaml"), str(root / "run"), overrides=dict(TINY, **{"vocab.size": 48, "train.max_steps": 500}),
              on_log=lambda r: None)
    rows = ["# response<TAB>cluster<TAB>prior"]
    for i, reply in enumerate(REPLIES, 1):
        rows += [f"{reply}\tc{i}\t-3.0", f"{reply} now\tc{i}\t-4.0", f"well {reply}\tc{i}\t-4.5"]
    (root / "responses.tsv").write_text("\n".join(rows) + "\n")
    return str(root / "run" / "model"), str(root / "responses.tsv")


@pytest.fixture(scope="session")
def caption_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("caption")
    subprocess.run([sys.executable, str(REPO / "tests" / "make_caption_images.py"), str(root / "data")],
                   check=True, capture_output=True)
    shutil.copy(REPO / "tests" / "data" / "tiny_caption.yaml", root / "recipe.yaml")
    s2s.train(str(root / "recipe.yaml"), str(root / "run"), on_log=lambda r: None)
    return str(root / "run" / "model"), root / "data" / "test"
