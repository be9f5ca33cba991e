"""Shared by the nst package's tests: an engine on the CPU, a quick preset and small images.

The package under test is the installed one (a wheel in a fresh venv), or the checkout's with `NST_PLUGIN` set
to a built library; ONNX Runtime comes from the installed onnxruntime wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import nst

REPO = Path(__file__).resolve().parents[3]


def quick_preset(iterations: int = 3, size: int = 32) -> str:
    """A preset that runs in a fraction of a second: shallow layers, few iterations, a small size."""
    style = (REPO / "presets/images/mosaic.png").as_posix()
    return (
        'version = 1\ndescription = "quick"\n'
        f"[style]\nimages = ['{style}']\n"
        '[losses]\ncontent_layer = "relu2_1"\nstyle_layers = ["relu1_1", "relu2_1"]\nstyle_weight = 1e7\n'
        f"[optimiser]\niterations = {iterations}\n[output]\nsize = {size}\n"
    )


def gradient_rgb(width: int = 40, height: int = 24) -> bytes:
    """A synthetic RGB8 gradient, packed rows."""
    return bytes((x * 6 % 256, y * 10 % 256, 90)[c] for y in range(height) for x in range(width) for c in range(3))


@pytest.fixture(scope="session")
def engine() -> Iterator[nst.Engine]:
    with nst.Engine("cpu", threads=2) as shared:
        yield shared
