"""Checks a built nst wheel without installing it: its tag and metadata, that every file is in RECORD with the
right hash, that the package, the native files and the presets are all there, and (for Windows, with MinGW's
objdump) that the DLL and the program import only Windows' own DLLs.

    python3 check_wheel.py target/dist/nst-0.1.0-py3-none-win_amd64.whl
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import List

from build_wheel import record_line

#: DLLs every Windows has; anything else would have to ship in the wheel.
WINDOWS_SYSTEM_DLLS = {
    "advapi32.dll",
    "bcrypt.dll",
    "bcryptprimitives.dll",
    "crypt32.dll",
    "dxgi.dll",
    "gdi32.dll",
    "kernel32.dll",
    "msvcrt.dll",
    "ntdll.dll",
    "ole32.dll",
    "oleaut32.dll",
    "psapi.dll",
    "secur32.dll",
    "shell32.dll",
    "user32.dll",
    "userenv.dll",
    "ws2_32.dll",
}
WINDOWS_API_SETS = re.compile(r"^api-ms-win-.*\.dll$")


def fail(message: str) -> None:
    sys.exit(f"check_wheel: {message}")


def check_record(archive: zipfile.ZipFile, dist_info: str) -> None:
    record = archive.read(f"{dist_info}/RECORD").decode()
    listed = {}
    for line in record.splitlines():
        name, digest, size = line.rsplit(",", 2)
        listed[name] = (digest, size)
    for name in archive.namelist():
        if name not in listed:
            fail(f"{name} is in the wheel but not in RECORD")
        digest, size = listed[name]
        if name.endswith("/RECORD"):
            continue
        if record_line(name, archive.read(name)) != f"{name},{digest},{size}":
            fail(f"RECORD's hash or size of {name} is wrong")
    for name in listed:
        if name not in archive.namelist():
            fail(f"RECORD lists {name}, which the wheel lacks")


def imported_dlls(data: bytes) -> List[str]:
    with tempfile.NamedTemporaryFile(suffix=".dll") as binary:
        binary.write(data)
        binary.flush()
        dump = subprocess.run(
            ["x86_64-w64-mingw32-objdump", "-p", binary.name], capture_output=True, text=True, check=True
        ).stdout
    return [line.split(":", 1)[1].strip() for line in dump.splitlines() if line.strip().startswith("DLL Name:")]


def main() -> None:
    wheel = Path(sys.argv[1])
    found = re.fullmatch(r"nst-([0-9.]+)-py3-none-([a-z0-9_]+)\.whl", wheel.name)
    if not found:
        fail(f"{wheel.name} is not named nst-VERSION-py3-none-PLATFORM.whl")
    version, platform = found.groups()
    windows = platform == "win_amd64"
    dist_info = f"nst-{version}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        tag_lines = [line for line in archive.read(f"{dist_info}/WHEEL").decode().splitlines() if line]
        if f"Tag: py3-none-{platform}" not in tag_lines or "Root-Is-Purelib: false" not in tag_lines:
            fail(f"WHEEL says {tag_lines}, not the tag py3-none-{platform}")
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        runtime = "1.24.4" if windows else "1.31.1"
        for line in [
            "Name: nst",
            f"Version: {version}",
            f"Requires-Dist: onnxruntime>={runtime}",
            "Requires-Python: >=3.9",
        ]:
            if line not in metadata.splitlines():
                fail(f"METADATA lacks '{line}'")
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        if "nst = nst._command:main" not in entry_points:
            fail("the nst command is not among the entry points")
        check_record(archive, dist_info)
        library, program = ("nst.dll", "nst.exe") if windows else ("libnst.so", "nst")
        needed = [
            "nst/__init__.py",
            "nst/_ffi.py",
            "nst/_engine.py",
            "nst/py.typed",
            f"nst/_native/{library}",
            f"nst/_native/{program}",
            "nst/_native/presets/mosaic.toml",
            "nst/_native/presets/images/mosaic.png",
            "nst/_native/presets/LICENSES.md",
            f"{dist_info}/licenses/LICENSES.md",
        ]
        for name in needed:
            if name not in names:
                fail(f"the wheel lacks {name}")
        if not archive.getinfo(f"nst/_native/{program}").external_attr >> 16 & 0o111:
            fail(f"nst/_native/{program} is not executable")
        if windows:
            for binary in (library, program):
                foreign = [
                    dll
                    for dll in imported_dlls(archive.read(f"nst/_native/{binary}"))
                    if dll.lower() not in WINDOWS_SYSTEM_DLLS and not WINDOWS_API_SETS.match(dll.lower())
                ]
                if foreign:
                    fail(f"{binary} imports DLLs Windows does not have: {foreign}")
    print(f"check_wheel: {wheel.name}: tag, metadata, RECORD, files" + (" and DLL imports" if windows else "") + " ok")


if __name__ == "__main__":
    main()
