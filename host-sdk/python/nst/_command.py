"""The `nst` command of an installed wheel: runs the `nst` program the wheel carries, with ONNX Runtime from the
installed onnxruntime wheel, so `pip install` gives the command line too."""

from __future__ import annotations

import os
import subprocess
import sys

from . import _locate


def main() -> int:
    """Runs the bundled `nst` program with this process's arguments and returns its exit status."""
    program = _locate.NATIVE_DIR / ("nst.exe" if sys.platform == "win32" else "nst")
    if not program.is_file():
        print(f"nst: the program is missing from the package ({program}): reinstall the nst wheel", file=sys.stderr)
        return 1
    environment = dict(os.environ)
    runtime = _locate.onnx_runtime()
    if runtime is not None:
        environment["ORT_DYLIB_PATH"] = str(runtime)
    if sys.platform == "win32":
        # Windows has no exec. The child shares the console, so a Ctrl-C reaches it too: it stops after its
        # current iteration, and this process waits for it to finish.
        child = subprocess.Popen([str(program), *sys.argv[1:]], env=environment)
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue
    os.execve(str(program), [str(program), *sys.argv[1:]], environment)
    return 1  # not reached: execve replaces this process


if __name__ == "__main__":
    sys.exit(main())
