"""The `nst` command a wheel installs into the venv's bin/, with ONNX Runtime from the onnxruntime wheel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, quick_preset

COMMAND = Path(sys.executable).parent / ("nst.exe" if sys.platform == "win32" else "nst")


@pytest.mark.skipif(not COMMAND.exists(), reason="the package was not installed from a wheel (no bin/nst)")
def test_the_installed_command_lists_presets_and_stylizes(tmp_path: Path) -> None:
    listed = subprocess.run([str(COMMAND), "presets"], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith("mosaic ") for line in listed.stdout.splitlines()), listed.stdout

    preset = tmp_path / "quick.toml"
    preset.write_text(quick_preset())
    out = tmp_path / "astronaut quick.png"
    content = REPO / "presets/samples/astronaut.png"
    run = [str(COMMAND), "stylize", str(content), "--preset", str(preset), "-o", str(out), "--provider", "cpu"]
    done = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.stat().st_size > 1000
    assert "random-weight" in done.stdout, done.stdout
    # The program the wheel carries, with the library beside it in the package.
    assert "site-packages" in done.stdout and "_native" in done.stdout, done.stdout


@pytest.mark.skipif(not COMMAND.exists(), reason="the package was not installed from a wheel (no bin/nst)")
def test_the_installed_command_installs_the_gimp_and_krita_filters_from_the_wheel(tmp_path: Path) -> None:
    for host, home, script in (("gimp", "neural-style", "neural-style.py"), ("krita", "nst_krita", "__init__.py")):
        plugins = tmp_path / host
        plugins.mkdir()
        done = subprocess.run(
            [str(COMMAND), host, "install", "--dest", str(plugins)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        native = plugins / home / "nst" / "_native"
        names = sorted(path.name for path in native.iterdir())
        # The wheel's own library and presets, and ONNX Runtime from the onnxruntime wheel.
        assert (plugins / home / script).is_file(), names
        assert any(name.startswith("libnst") or name == "nst.dll" for name in names), names
        assert any("onnxruntime" in name for name in names), names
        assert (native / "presets" / "mosaic.toml").is_file(), names
