"""nst.toml read into `nst.Engine`'s arguments, as the GIMP 3 and Krita filters read theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

import nst
from nst import _settings


def test_paths_are_relative_to_the_file_and_names_stay_names(tmp_path: Path) -> None:
    config = tmp_path / "nst.toml"
    config.write_text('# kept\nthreads = 1\nmodel = "sub/m.onnx"\npresets_dir = "p"\nprovider = "cpu"\n')
    assert nst.engine_settings(config) == {
        "threads": 1,
        "model": str(tmp_path / "sub/m.onnx"),
        "presets_dir": str(tmp_path / "p"),
        "provider": "cpu",
    }
    config.write_text('model = "vgg19"\n')
    assert nst.engine_settings(config) == {"model": "vgg19"}
    assert nst.engine_settings(tmp_path / "absent.toml") == {}


def test_an_unknown_key_is_refused_naming_the_file_and_the_key(tmp_path: Path) -> None:
    config = tmp_path / "nst.toml"
    config.write_text('modle = "vgg19"\n')
    with pytest.raises(nst.InvalidArgumentError, match="nst.toml: unknown setting modle"):
        nst.engine_settings(config)


def test_pythons_without_tomllib_read_the_same_lines(tmp_path: Path) -> None:
    text = "# engine\nthreads = 2 # two\nlow_memory = true\nprovider = 'cpu'\n"
    assert _settings._parse_plain(text, tmp_path / "nst.toml") == {"threads": 2, "low_memory": True, "provider": "cpu"}
    with pytest.raises(nst.InvalidArgumentError, match="line 1"):
        _settings._parse_plain("threads = [1]\n", tmp_path / "nst.toml")
