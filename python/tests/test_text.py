"""s2s.Vocab and s2s.bleu."""
import pytest

import s2s


def test_vocab_round_trip(translation_model):
    vocab = s2s.Vocab(translation_model + "/vocab.model")
    ids = vocab.encode("1 2 3")
    assert vocab.decode(ids) == "1 2 3"
    assert [vocab.piece(i) for i in ids] == vocab.encode_pieces("1 2 3")
    assert len(vocab) == 16 and vocab.piece(3) == "</s>"
    with pytest.raises(ValueError, match="UTF-8"):
        vocab.encode(b"\xff")
    with pytest.raises(OSError):
        s2s.Vocab("/nonexistent/vocab.model")


def test_bleu_as_sacrebleu():
    hyps = ["the cat sat on the mat", "a dog"]
    refs = [["the cat sat on the mat", "a dog barked"]]
    score = s2s.bleu(hyps, refs)
    assert 0 < score.score < 100 and float(score) == score.score
    assert str(score).startswith("BLEU = ")
    assert s2s.bleu(["x y z w"], [["x y z w"]]).score == pytest.approx(100.0)
    with pytest.raises(ValueError, match="reference stream"):
        s2s.bleu(hyps, [["only one"]])
