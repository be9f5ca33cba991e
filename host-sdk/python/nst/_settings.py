"""An engine configuration file (the `nst.toml` the GIMP 3 and Krita filters keep beside themselves) read into
`nst.Engine`'s arguments, as the engine reads such a file itself: only the engine's keys, and file paths relative
to the file's folder. Python 3.11's `tomllib` reads it; an older Python (some hosts bundle one) gets the
`key = value` lines of strings, numbers and booleans such a file holds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

from ._errors import InvalidArgumentError

#: The keys of an engine configuration, as `nst.Engine` names its arguments.
ENGINE_KEYS = frozenset(
    {
        "ort_library",
        "provider",
        "device",
        "threads",
        "model",
        "model_seed",
        "memory_budget_mb",
        "low_memory",
        "losses",
        "presets_dir",
    }
)

#: A `model` with one of these suffixes, or with a folder in it, is a file; otherwise it names an installed
#: model ("vgg19", "builtin"), as the engine tells them apart.
_MODEL_FILE_SUFFIXES = (".onnx", ".safetensors", ".pth")

_LINE = re.compile(r"([A-Za-z0-9_]+)\s*=\s*(\"[^\"]*\"|'[^']*'|true|false|-?[0-9]+)\s*(#.*)?")


def _parse(text: str, path: Path) -> Dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python before 3.11
        return _parse_plain(text, path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidArgumentError(None, f"{path}: {error}") from None


def _parse_plain(text: str, path: Path) -> Dict[str, Any]:
    values: Dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if not match:
            message = f"{path}, line {number}: expected key = string, number or boolean: {line!r}"
            raise InvalidArgumentError(None, message)
        key, raw = match.group(1), match.group(2)
        if raw[0] in "\"'":
            values[key] = raw[1:-1]
        elif raw in ("true", "false"):
            values[key] = raw == "true"
        else:
            values[key] = int(raw)
    return values


def _names_a_file(key: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if key == "model":
        return value.endswith(_MODEL_FILE_SUFFIXES) or "/" in value or "\\" in value
    return key in ("ort_library", "presets_dir")


def engine_settings(path: Path) -> Dict[str, Any]:
    """The settings of the configuration file `path` as `nst.Engine` arguments; none when there is no file. A
    file that cannot be read, or a key the engine does not have, raises `InvalidArgumentError` naming the file."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidArgumentError(None, f"{path}: cannot read: {error}") from error
    settings = _parse(text, path)
    unknown = sorted(set(settings) - ENGINE_KEYS)
    if unknown:
        known = ", ".join(sorted(ENGINE_KEYS))
        raise InvalidArgumentError(None, f"{path}: unknown setting {unknown[0]} (known: {known})")
    for key, value in settings.items():
        if _names_a_file(key, value) and not Path(value).is_absolute():
            settings[key] = str(path.parent / value)
    return settings
