"""s2s.Captioner: what `s2s caption` writes, and captions from numpy arrays equal to those of
the same image files; per-image errors and wrong array shapes."""
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

import s2s
from conftest import run_s2s


def read_gray_png(path):
    """The pixels of the tests' 8-bit gray PNGs (one IDAT stream, filter 0), standard library."""
    data = Path(path).read_bytes()
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows = [raw[y * (width + 1) + 1:(y + 1) * (width + 1)] for y in range(height)]
    assert all(raw[y * (width + 1)] == 0 for y in range(height))
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width)


def test_captions_equal_the_cli(s2s_binary, caption_model):
    model, images = caption_model
    paths = sorted(str(p) for p in images.glob("*.png"))
    found = s2s.Captioner(model).caption(paths)
    cli = run_s2s(s2s_binary, "caption", "-m", model, str(images)).splitlines()
    assert [f"{p}\t{c[0].text}\t{c[0].score:.4f}" for p, c in zip(paths, found)] == cli


def test_numpy_images_caption_as_their_files(caption_model):
    model, images = caption_model
    captioner = s2s.Captioner(model)
    paths = sorted(images.glob("*.png"))
    gray = [read_gray_png(p) for p in paths]
    from_files = captioner.caption(paths, n_best=2, attention=True)  # pathlib paths work too
    arrays = {
        "gray": gray,
        "gray HxWx1": [g[:, :, None] for g in gray],
        "rgb": [np.repeat(g[:, :, None], 3, axis=2) for g in gray],
        "rgba": [np.dstack([g, g, g, np.full_like(g, 255)]) for g in gray],
        "float": [g.astype(np.float32) / 255 for g in gray],
        "strided": [np.repeat(g[:, :, None], 3, axis=2)[:, :, ::-1] for g in gray],  # a copy
    }
    for kind, batch in arrays.items():
        from_arrays = captioner.caption(batch, n_best=2, attention=True)
        for a, f in zip(from_arrays, from_files):
            assert [c.text for c in a] == [c.text for c in f], kind
            tolerance = 1e-4 if kind == "float" else 0.0
            assert all(abs(x.score - y.score) <= tolerance for x, y in zip(a, f)), kind
    mixed = captioner.caption([str(paths[0]), gray[1], paths[2]])
    assert [c[0].text for c in mixed] == [from_files[i][0].text for i in range(3)]
    best = from_files[0][0]
    h, w = captioner.grid_size
    assert best.attention.shape == (len(best.words) + 1, h * w)
    assert np.allclose(best.attention.sum(axis=1), 1.0, atol=1e-4)


def test_bad_images(tmp_path, caption_model):
    model, images = caption_model
    captioner = s2s.Captioner(model)
    (tmp_path / "empty.png").write_bytes(b"")
    good = str(sorted(images.glob("*.png"))[0])
    with pytest.raises(ValueError, match="empty.png"):
        captioner.caption([good, str(tmp_path / "empty.png")])
    found = captioner.caption([str(tmp_path / "empty.png"), good], errors="ignore")
    assert found[0] == [] and len(found[1]) == 1
    with pytest.raises(ValueError, match="shape"):
        captioner.caption([np.zeros((2, 2, 2, 2), dtype=np.uint8)])
    with pytest.raises(ValueError, match="channels"):
        captioner.caption([np.zeros((4, 4, 2), dtype=np.uint8)])
    with pytest.raises(ValueError, match="dtype"):
        captioner.caption([np.zeros((4, 4), dtype=np.int64)])
    with pytest.raises(ValueError, match="not a model folder"):
        s2s.Captioner(str(tmp_path))
