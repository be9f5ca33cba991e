"""Images in and out: numpy arrays of every supported dtype and layout, PIL images of any mode, and plain bytes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PilImage

import nst
from conftest import gradient_rgb, quick_preset


def test_a_uint8_rgb_array_comes_back_stylized_with_its_shape_and_dtype(engine: nst.Engine) -> None:
    content = np.frombuffer(gradient_rgb(), np.uint8).reshape(24, 40, 3).copy()
    before = content.copy()
    result = engine.stylize(content, quick_preset())
    assert result.shape == (24, 40, 3) and result.dtype == np.uint8
    assert np.abs(result.astype(int) - content.astype(int)).mean() > 2, "the image did not change"
    assert np.array_equal(content, before), "the input was modified"


def test_uint16_rgba_keeps_its_alpha_exactly_and_float32_stays_float(engine: nst.Engine) -> None:
    rgb = np.frombuffer(gradient_rgb(), np.uint8).reshape(24, 40, 3).astype(np.uint16) * 257
    alpha = np.arange(24 * 40, dtype=np.uint16).reshape(24, 40, 1) * 61
    content = np.concatenate([rgb, alpha], axis=2)
    result = engine.stylize(content, quick_preset())
    assert result.dtype == np.uint16 and result.shape == (24, 40, 4)
    assert np.array_equal(result[:, :, 3], content[:, :, 3])
    assert np.abs(result[:, :, :3].astype(int) - rgb.astype(int)).mean() > 2 * 257

    as_float = rgb.astype(np.float32) / 65535
    result = engine.stylize(as_float, quick_preset())
    assert result.dtype == np.float32 and result.shape == (24, 40, 3)
    assert np.isfinite(result).all() and 0 <= result.min() and result.max() <= 1


def test_grey_and_strided_views_are_read_as_they_are_seen(engine: nst.Engine) -> None:
    grey = np.frombuffer(gradient_rgb(), np.uint8).reshape(24, 40, 3)[:, :, 0].copy()
    result = engine.stylize(grey, quick_preset())
    assert result.shape == (24, 40) and result.dtype == np.uint8

    big = np.frombuffer(gradient_rgb(80, 48), np.uint8).reshape(48, 80, 3)
    view = big[::2, ::2, ::-1]  # every other pixel, channels reversed: no packed row layout at all
    strided = engine.stylize(view, quick_preset(), seed=3)
    packed = engine.stylize(np.ascontiguousarray(view), quick_preset(), seed=3)
    assert np.array_equal(strided, packed)

    rows = big[::2]  # rows apart, pixels packed: passed with its stride, not copied
    assert np.array_equal(
        engine.stylize(rows, quick_preset(), seed=3), engine.stylize(rows.copy(), quick_preset(), seed=3)
    )


def test_pil_images_of_any_mode_come_back_as_pil(engine: nst.Engine) -> None:
    rgb = PilImage.frombytes("RGB", (40, 24), gradient_rgb())
    result = engine.stylize(rgb, quick_preset())
    assert isinstance(result, PilImage.Image) and result.mode == "RGB" and result.size == (40, 24)
    assert result.tobytes() != rgb.tobytes()

    with_alpha = rgb.convert("LA")
    result = engine.stylize(with_alpha, quick_preset())
    assert result.mode == "RGBA" and result.getchannel("A").tobytes() == with_alpha.getchannel("A").tobytes()
    assert engine.stylize(rgb.convert("P"), quick_preset()).mode == "RGB"


def test_plain_bytes_in_and_out(engine: nst.Engine) -> None:
    content = nst.Image(40, 24, nst.PixelFormat.RGB8, gradient_rgb())
    result = engine.stylize(content, quick_preset())
    assert isinstance(result, nst.Image)
    assert (result.width, result.height, result.format) == (40, 24, nst.PixelFormat.RGB8)
    assert len(result.data) == 40 * 24 * 3 and result.data != content.data

    padded = nst.Image(
        40,
        24,
        nst.PixelFormat.RGB8,
        b"".join(gradient_rgb()[y * 120 : (y + 1) * 120] + b"\0" * 8 for y in range(24)),
        stride=128,
    )
    assert engine.stylize(padded, quick_preset(), seed=1).data == engine.stylize(content, quick_preset(), seed=1).data


def test_bad_images_are_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="1000 needed|needed"):
        nst.Image(10, 10, nst.PixelFormat.RGB8, b"\0" * 100)
    engine_free_checks = [
        (np.zeros((4, 4, 3), np.int32), TypeError, "uint8, uint16 or float32"),
        (np.zeros((4, 4, 5), np.uint8), ValueError, "1 to 4 channels"),
        ("photo.png", TypeError, "numpy array"),
    ]
    from nst._images import to_pixels

    for image, kind, message in engine_free_checks:
        with pytest.raises(kind, match=message):
            to_pixels(image, "content")
