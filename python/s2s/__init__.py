"""s2s: fast LSTM sequence-to-sequence models in C++ — translate, caption images, suggest
replies, train — from Python, on the same library as the s2s command-line tool.

    import s2s
    t = s2s.Translator("runs/hour/model", device="cpu", threads=2)
    print(t.translate(["Das ist gut."], beam=5)[0][0].text)

Heavy calls release the GIL. Caller mistakes raise ValueError, environment failures OSError,
with the library's message. docs/python.md has the whole guide.
"""
from ._s2s import (
    BleuScore,
    Caption,
    Captioner,
    ReplySuggester,
    Score,
    Translation,
    Translator,
    Vocab,
    __version__,
    bleu,
    quantize,
    train,
)

__all__ = [
    "BleuScore",
    "Caption",
    "Captioner",
    "ReplySuggester",
    "Score",
    "Translation",
    "Translator",
    "Vocab",
    "__version__",
    "bleu",
    "quantize",
    "train",
]
