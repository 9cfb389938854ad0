"""s2s.ReplySuggester: diverse suggestions of the response set, a response list given in Python,
the trigger threshold, and what `s2s reply` writes."""
import json

import pytest

import s2s
from conftest import REPLIES, run_s2s


def test_suggestions_equal_the_cli(s2s_binary, reply_model, test_lines):
    model, responses = reply_model
    suggester = s2s.ReplySuggester(model, responses, k=3)
    found = suggester.suggest(test_lines)
    records = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(test_lines))
    cli = [json.loads(line) for line in
           run_s2s(s2s_binary, "reply", "-m", model, "--responses", responses, stdin=records.encode())
           .splitlines()]
    right = 0
    for ours, theirs, message in zip(found, cli, test_lines):
        assert [s["text"] for s in ours] == [s["text"] for s in theirs["suggestions"]]
        # The CLI prints scores rounded to 4 decimals.
        assert [s["score"] for s in ours] == pytest.approx(
            [s["score"] for s in theirs["suggestions"]], abs=1.01e-4)
        assert len({s["cluster"] for s in ours}) == 3  # one per cluster
        right += ours[0]["text"] == REPLIES[int(message[0])]
    assert right >= 0.3 * len(test_lines)  # the model learns its rule (chance: 0.1)


def test_the_prior_weight_equals_the_cli_lambda(s2s_binary, reply_model, test_lines):
    model, responses = reply_model
    lines = test_lines[:20]
    suggester = s2s.ReplySuggester(model, responses, k=3, prior_weight=0.7)
    found = suggester.suggest(lines)
    records = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(lines))
    cli = [json.loads(line) for line in
           run_s2s(s2s_binary, "reply", "-m", model, "--responses", responses, "--lambda", "0.7",
                   stdin=records.encode()).splitlines()]
    for ours, theirs in zip(found, cli):
        assert [s["text"] for s in ours] == [s["text"] for s in theirs["suggestions"]]
        assert [s["score"] for s in ours] == pytest.approx(
            [s["score"] for s in theirs["suggestions"]], abs=1.01e-4)
        # score = log P(r | m) - 0.7 log P(r) >= log P(r | m): log P(r) < 0.
        assert all(s["score"] > s["log_prob"] for s in ours)
    plain = suggester.suggest(lines, prior_weight=0.0)
    assert all(s["score"] == s["log_prob"] for r in plain for s in r)


def test_responses_from_python_threshold_and_k(reply_model):
    model, _ = reply_model
    responses = [(reply, f"c{i}") for i, reply in enumerate(REPLIES)] + [("yes", "c0", -1.0)]
    suggester = s2s.ReplySuggester(model, responses, k=2, replicas=2, threads=2)
    assert len(suggester.responses) == 11
    found = suggester.suggest(["1 2 3", "7 7"])
    assert [len(s) for s in found] == [2, 2]
    assert all(s["text"] in REPLIES + ["yes"] for s in found[0] + found[1])
    assert [len(s) for s in suggester.suggest(["1 2 3"], k=1)] == [1]
    assert suggester.suggest(["1 2 3"], threshold=0.5) == [[]]  # log P < 0.5 always
    with pytest.raises(ValueError, match="text, cluster"):
        s2s.ReplySuggester(model, [("only text",)])
    with pytest.raises(OSError, match="cannot open"):
        s2s.ReplySuggester(model, "/nonexistent/responses.tsv")
