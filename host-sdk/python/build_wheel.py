"""Builds the nst wheel for one platform from files built already: the Python package, the plugin library, the
`nst` program and the presets. The package binds the C ABI with ctypes and has no extension module, so its tag
is `py3-none-PLATFORM`: one wheel per platform serves every CPython from 3.9 on.

    python3 build_wheel.py --platform manylinux_2_28_x86_64 --library libnst.so --program nst \\
        --runtime-api 31 --out target/dist

The wheel is written under a temporary name and renamed into place. Its files are stored in a fixed order with
a fixed date, so the same inputs make the same wheel.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
#: A fixed date for every entry (the earliest a zip can hold), so that builds are reproducible.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

#: The ONNX Runtime wheel each platform's library speaks to, by the API level it was built for: the
#: library loads any ONNX Runtime at or above its level.
RUNTIME_VERSIONS = {"31": "1.31.1", "24": "1.24.4"}


def workspace_version() -> str:
    """The version in the workspace's Cargo.toml: the package and the library always share it."""
    text = (REPO / "Cargo.toml").read_text(encoding="utf-8")
    found = re.search(r'^\[workspace\.package\][^\[]*?^version = "([^"]+)"', text, re.M | re.S)
    if not found:
        sys.exit("build_wheel: no [workspace.package] version in Cargo.toml")
    return found.group(1)


def metadata(version: str, runtime_api: str) -> str:
    runtime = RUNTIME_VERSIONS[runtime_api]
    lines = [
        "Metadata-Version: 2.4",
        "Name: nst",
        f"Version: {version}",
        "Summary: Neural style transfer (Gatys et al.) with VGG19 on ONNX Runtime: a Python API and the nst command",
        "License-Expression: MIT OR Apache-2.0",
        "License-File: LICENSES.md",
        "Requires-Python: >=3.9",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: Topic :: Multimedia :: Graphics",
        f"Requires-Dist: onnxruntime>={runtime}",
        "Provides-Extra: gpu",
        f'Requires-Dist: onnxruntime-gpu>={runtime}; extra == "gpu"',
        "Provides-Extra: directml",
        f'Requires-Dist: onnxruntime-directml>={RUNTIME_VERSIONS["24"]}; extra == "directml"',
        "Provides-Extra: images",
        'Requires-Dist: numpy; extra == "images"',
        'Requires-Dist: pillow; extra == "images"',
        "Description-Content-Type: text/markdown",
        "",
    ]
    description = (HERE / "README.md").read_text(encoding="utf-8")
    return "\n".join(lines) + "\n" + description


def wheel_file(tag: str) -> str:
    return "\n".join(
        ["Wheel-Version: 1.0", "Generator: nst build_wheel.py", "Root-Is-Purelib: false", f"Tag: {tag}", ""]
    )


def package_files(library: Path, program: Path) -> Iterator[Tuple[str, Path]]:
    """(path in the wheel, file on disk) for every file of the package."""
    for source in sorted((HERE / "nst").iterdir()):
        if source.suffix == ".py" or source.name == "py.typed":
            yield f"nst/{source.name}", source
    yield f"nst/_native/{library.name}", library
    yield f"nst/_native/{program.name}", program
    presets = REPO / "presets"
    for folder, subfolders, files in os.walk(presets):
        subfolders.sort()
        for name in sorted(files):
            path = Path(folder) / name
            yield f"nst/_native/presets/{path.relative_to(presets).as_posix()}", path


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    entry = zipfile.ZipInfo(name, ZIP_DATE)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.create_system = 3  # Unix: installers honour the mode bits of regular files only
    entry.external_attr = (0o100000 | (0o755 if executable else 0o644)) << 16  # a regular file, and its mode
    archive.writestr(entry, data)


def build(platform: str, library: Path, program: Path, runtime_api: str, out: Path) -> Path:
    version = workspace_version()
    tag = f"py3-none-{platform}"
    dist_info = f"nst-{version}.dist-info"
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"nst-{version}-{tag}.whl"
    partial = out / f".{target.name}.partial-{os.getpid()}"
    records: List[str] = []
    extra: Dict[str, bytes] = {
        f"{dist_info}/METADATA": metadata(version, runtime_api).encode(),
        f"{dist_info}/WHEEL": wheel_file(tag).encode(),
        f"{dist_info}/entry_points.txt": b"[console_scripts]\nnst = nst._command:main\n",
        f"{dist_info}/licenses/LICENSES.md": (REPO / "presets/LICENSES.md").read_bytes(),
    }
    try:
        with zipfile.ZipFile(partial, "x") as archive:
            for name, path in package_files(library, program):
                data = path.read_bytes()
                add(archive, name, data, executable=path == program)
                records.append(record_line(name, data))
            for name, data in extra.items():
                add(archive, name, data)
                records.append(record_line(name, data))
            records.append(f"{dist_info}/RECORD,,")
            add(archive, f"{dist_info}/RECORD", ("\n".join(records) + "\n").encode())
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", required=True, help="the wheel's platform tag, e.g. manylinux_2_28_x86_64")
    parser.add_argument("--library", required=True, type=Path, help="the built plugin library")
    parser.add_argument("--program", required=True, type=Path, help="the built nst program")
    parser.add_argument("--runtime-api", required=True, choices=sorted(RUNTIME_VERSIONS), help="ONNX Runtime API level")
    parser.add_argument("--out", required=True, type=Path, help="the folder the wheel goes in")
    arguments = parser.parse_args()
    print(build(arguments.platform, arguments.library, arguments.program, arguments.runtime_api, arguments.out))


if __name__ == "__main__":
    main()
