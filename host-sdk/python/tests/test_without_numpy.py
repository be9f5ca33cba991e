"""The package imports and runs with neither numpy nor Pillow, as in the Pythons that GIMP and Krita bundle."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from conftest import quick_preset

BLOCK_AND_RUN = textwrap.dedent(
    """
    import importlib.abc, sys

    class Absent(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("numpy", "PIL"):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
            return None

    sys.meta_path.insert(0, Absent())
    import nst
    assert "numpy" not in sys.modules and "PIL" not in sys.modules
    width, height = 20, 12
    pixels = bytes(
        (x * 12 % 256, y * 20 % 256, 90, 255)[c] for y in range(height) for x in range(width) for c in range(4)
    )
    with nst.Engine("cpu", threads=1) as engine:
        result = engine.stylize(nst.Image(width, height, nst.PixelFormat.RGBA8, pixels), sys.argv[1])
    assert isinstance(result, nst.Image) and len(result.data) == len(pixels) and result.data != pixels
    assert result.data[3::4] == pixels[3::4], "alpha changed"
    assert "numpy" not in sys.modules and "PIL" not in sys.modules
    print("ran without numpy and Pillow:", engine.last_report.iterations, "iterations")
    """
)


def test_the_package_runs_with_neither_numpy_nor_pillow() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_RUN, quick_preset()],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ran without numpy and Pillow: 3 iterations" in done.stdout
