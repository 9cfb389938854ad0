"""s2s.train: every log record reaches on_log, overrides apply, Ctrl-C stops the run with a
checkpoint and raises KeyboardInterrupt, and resume=True continues it to the same model."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import s2s
from conftest import digit_lines, write_pairs

SMALL = {"vocab.size": 16, "encoder.embed_size": 8, "encoder.hidden_size": 16,
         "encoder.layers": 1, "decoder.embed_size": 8, "decoder.hidden_size": 16,
         "train.max_steps": 40, "train.log_every": 10, "train.valid_every": 20,
         "train.warmup_steps": 10, "train.patience": 0, "train.valid_metric": "perplexity",
         "data.batch_tokens": 128}


@pytest.fixture
def recipe(tmp_path):
    write_pairs(tmp_path / "train.tsv", digit_lines(400, 5))
    write_pairs(tmp_path / "dev.tsv", digit_lines(20, 6))
    (tmp_path / "recipe.yaml").write_text("data: {train: train.tsv, valid: dev.tsv}\n")
    return str(tmp_path / "recipe.yaml")


def test_on_log_sees_every_record(recipe, tmp_path):
    records = []
    summary = s2s.train(recipe, str(tmp_path / "run"), overrides=SMALL, on_log=records.append)
    assert summary["steps"] == 40 and summary["stopped"] == "reached train.max_steps"
    assert summary["model"].endswith("run/model")
    progress = [r for r in records if r["kind"] == "progress"]
    assert [r["step"] for r in progress] == [10, 20, 30, 40]
    assert all(r["loss"] > 0 and r["tokens_per_second"] > 0 for r in progress)
    validations = [r for r in records if r["kind"] == "validation"]
    assert [r["step"] for r in validations] == [20, 40]
    assert all(r["perplexity"] > 1 and "bleu" in r for r in validations)
    assert [r["step"] for r in records if r["kind"] == "checkpoint"] == [20, 40]
    assert any(r["kind"] == "message" and "vocabulary" in r["text"] for r in records)


def test_bad_recipes_raise_value_error(recipe, tmp_path):
    with pytest.raises(ValueError, match="no_such_key"):
        s2s.train(recipe, str(tmp_path / "run"), overrides={"train.no_such_key": 1})
    with pytest.raises(ValueError, match="schedule"):
        s2s.train(recipe, str(tmp_path / "run"), overrides={"train.schedule": "sideways"})
    with pytest.raises(OSError):
        s2s.train(str(tmp_path / "missing.yaml"), str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_ctrl_c_stops_with_a_checkpoint_and_resume_continues(recipe, tmp_path):
    # In a child process: SIGINT arrives (as from Ctrl-C) once step 20 is logged.
    script = textwrap.dedent(f"""
        import os, signal, s2s
        def on_log(record):
            if record["kind"] == "progress" and record["step"] == 20:
                os.kill(os.getpid(), signal.SIGINT)
        try:
            s2s.train({recipe!r}, {str(tmp_path / "run")!r}, overrides={SMALL!r}, on_log=on_log)
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "KeyboardInterrupt" in done.stdout
    checkpoints = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("step-*"))
    assert checkpoints[-1] == "step-000000020"
    resumed = s2s.train(recipe, str(tmp_path / "run"), overrides=SMALL, resume=True,
                        on_log=lambda r: None)
    assert resumed["steps"] == 40
    whole = s2s.train(recipe, str(tmp_path / "whole"), overrides=SMALL, on_log=lambda r: None)
    assert (tmp_path / "run" / "model" / "model.safetensors").read_bytes() == \
        (tmp_path / "whole" / "model" / "model.safetensors").read_bytes()
    assert whole["steps"] == 40
