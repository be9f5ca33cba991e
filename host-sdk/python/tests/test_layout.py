"""The ctypes structs against the C compiler's reading of `nst.h`: every size and offset the same."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from nst import _ffi

STRUCTS = {"NstImage": _ffi.NstImage, "NstOverrides": _ffi.NstOverrides, "NstRunReport": _ffi.NstRunReport}


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (cc)")
def test_every_struct_has_the_headers_size_and_offsets(tmp_path: Path) -> None:
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "nst.h"', "int main(void) {"]
    for name, struct in STRUCTS.items():
        lines.append(f'  printf("{name} size %zu\\n", sizeof({name}));')
        for field, _ in struct._fields_:
            lines.append(f'  printf("{name}.{field} %zu\\n", offsetof({name}, {field}));')
    lines += ["  return 0;", "}"]
    source = tmp_path / "layout.c"
    source.write_text("\n".join(lines) + "\n")
    program = tmp_path / "layout"
    subprocess.run(["cc", "-I", str(REPO / "plugin/include"), str(source), "-o", str(program)], check=True)
    printed = dict(
        line.rsplit(" ", 1)
        for line in subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout.splitlines()
    )
    for name, struct in STRUCTS.items():
        assert int(printed[f"{name} size"]) == ctypes.sizeof(struct), name
        for field, _ in struct._fields_:
            assert int(printed[f"{name}.{field}"]) == getattr(struct, field).offset, f"{name}.{field}"
