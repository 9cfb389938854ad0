"""s2s.Translator: byte for byte what `s2s translate` and `s2s score` write, n-best with scores
and alignments, concurrent Python threads, bad input as ValueError."""
import threading

import pytest

import s2s
from conftest import run_s2s


def cli_lines(binary, model, lines, *args):
    return run_s2s(binary, "translate", "-m", model, *args,
                   stdin="".join(line + "\n" for line in lines).encode()).splitlines()


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_translation_equals_the_cli(s2s_binary, translation_model, test_lines, batch_size):
    translator = s2s.Translator(translation_model, device="cpu", threads=2)
    found = translator.translate(test_lines, beam=5, batch_size=batch_size)
    assert [hyps[0].text for hyps in found] == cli_lines(s2s_binary, translation_model, test_lines,
                                                         "--beam", "5")


def test_nbest_scores_and_alignments_equal_the_cli(s2s_binary, translation_model, test_lines):
    translator = s2s.Translator(translation_model)
    found = translator.translate(test_lines, beam=4, n_best=2, alignment="hard")
    ours = []
    for i, hyps in enumerate(found):
        assert len(hyps) == 2
        for t in hyps:
            assert len(t.token_log_probs) == len(t.pieces) + 1
            assert t.attention.shape[0] == len(t.pieces) + 1
            assert abs(sum(t.token_log_probs) - t.log_prob) < 1e-3
            scores = " ".join(f"{lp:.4f}" for lp in t.token_log_probs)
            alignment = " ".join(f"{s}-{u}" for u, s in enumerate(t.alignment))
            ours.append(f"{i} ||| {t.text} ||| {t.score:.4f} ||| {scores} ||| {alignment}")
    assert ours == cli_lines(s2s_binary, translation_model, test_lines, "--beam", "4", "--n-best",
                             "2", "--scores", "--alignment", "hard")


def test_score_equals_the_cli_and_the_search(s2s_binary, translation_model, test_lines):
    translator = s2s.Translator(translation_model)
    best = [hyps[0] for hyps in translator.translate(test_lines, beam=3, normalize=0.0)]
    targets = [t.text for t in best]
    scores = translator.score(test_lines, targets)
    for score, t in zip(scores, best):
        assert abs(score.log_prob - t.log_prob) < 1e-4
        assert abs(float(score) - sum(score.token_log_probs)) < 1e-3
    pairs = "".join(f"{s}\t{t}\n" for s, t in zip(test_lines, targets)).encode()
    cli = run_s2s(s2s_binary, "score", "-m", translation_model, stdin=pairs).splitlines()
    assert [line.split("\t")[0] for line in cli] == [f"{s.log_prob:.4f}" for s in scores]


def test_two_threads_translate_at_once_with_the_same_results(translation_model, test_lines):
    expected = [h[0].text for h in s2s.Translator(translation_model).translate(test_lines)]
    for replicas in (1, 2):
        translator = s2s.Translator(translation_model, threads=2, replicas=replicas)
        results = [None, None]

        def work(k):
            results[k] = [h[0].text for h in translator.translate(test_lines * 3)]

        threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results[0] == expected * 3 and results[1] == expected * 3, replicas
        assert translator.replicas == replicas


def test_bad_input_raises_value_error_or_fails_alone(translation_model):
    translator = s2s.Translator(translation_model)
    with pytest.raises(ValueError, match="line 1: invalid UTF-8"):
        translator.translate(["1 2", b"\xff\xfe 3"])
    found = translator.translate(["1 2", b"\xff\xfe 3", b"3 4", ""], errors="ignore")
    assert [len(h) for h in found] == [1, 0, 1, 0]
    with pytest.raises(ValueError, match="over the limit"):
        translator.translate(["1 2 3 4 5 6 7 8 9"], max_source_length=4, reject_long=True)
    with pytest.raises(ValueError, match="n_best"):
        translator.translate(["1 2"], beam=2, n_best=3)
    with pytest.raises(ValueError, match="alignment"):
        translator.translate(["1 2"], alignment="diagonal")
    with pytest.raises(TypeError, match="unexpected keyword 'bean'"):
        translator.translate(["1 2"], bean=5)
    with pytest.raises(TypeError, match="one string"):
        translator.translate("1 2 3")
    with pytest.raises(TypeError):
        translator.translate([1, 2])
    with pytest.raises(ValueError, match="sources but"):
        translator.score(["1 2"], [])


def test_bad_model_folders(tmp_path, translation_model):
    with pytest.raises(ValueError, match="not a model folder"):
        s2s.Translator(str(tmp_path))
    with pytest.raises(ValueError, match="cpu, cuda"):
        s2s.Translator(translation_model, device="tpu")
    ensemble = s2s.Translator([translation_model, translation_model])
    assert ensemble.translate(["1 2 3"])[0][0].text == \
        s2s.Translator(translation_model).translate(["1 2 3"])[0][0].text


def test_an_int8_copy_translates_like_the_float_model(s2s_binary, translation_model, test_lines,
                                                      tmp_path):
    summary = s2s.quantize(translation_model, str(tmp_path / "int8"))
    assert summary["int8_tensors"] > 0
    assert summary["bytes_after"] < 0.4 * summary["bytes_before"]
    int8 = s2s.Translator(str(tmp_path / "int8"), threads=2)
    found = [hyps[0].text for hyps in int8.translate(test_lines, beam=5)]
    # Byte for byte what the CLI makes of the same folder, and nearly what the float model says.
    assert found == cli_lines(s2s_binary, str(tmp_path / "int8"), test_lines, "--beam", "5")
    float_lines = cli_lines(s2s_binary, translation_model, test_lines, "--beam", "5")
    same = sum(a == b for a, b in zip(found, float_lines))
    assert same >= 0.9 * len(test_lines)
    with pytest.raises(ValueError, match="int8 model already"):
        s2s.quantize(str(tmp_path / "int8"), str(tmp_path / "twice"))
    assert not (tmp_path / "twice").exists()
