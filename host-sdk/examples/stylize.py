"""Stylizes an image with the nst Python package, with no other package (no numpy, no Pillow).

usage: python3 stylize.py [PRESET] [OUT.ppm]

Builds a synthetic 40x24 RGB gradient, runs the preset (default: mosaic) at 40 px for 3 iterations with a
progress callback, checks the result and prints the run report. Exit status 0 when everything held.
With the package installed (`pip install nst`) it runs as it is; from a checkout, point PYTHONPATH at
host-sdk/python and NST_PLUGIN at the built library (target/release/libnst.so).
"""

import sys

import nst


def main() -> None:
    preset = sys.argv[1] if len(sys.argv) > 1 else "mosaic"
    out_path = sys.argv[2] if len(sys.argv) > 2 else None
    print("nst", nst.version())

    width, height = 40, 24
    pixels = bytes((x * 6 % 256, y * 10 % 256, 90)[c] for y in range(height) for x in range(width) for c in range(3))
    content = nst.Image(width, height, nst.PixelFormat.RGB8, pixels)
    steps = []

    def on_progress(step: int, total: int, loss: float) -> bool:
        steps.append(step)
        print(f"step {step}/{total} loss {loss:.4e}")
        return True

    with nst.Engine("cpu", threads=2) as engine:
        try:
            result = engine.stylize(content, preset, size=40, iterations=3, progress=on_progress)
        except nst.Error as error:
            sys.exit(f"stylize failed: {error}")
        report = engine.last_report
    changed = sum(abs(a - b) for a, b in zip(result.data, pixels)) / len(pixels) / 255
    print(
        f"report: {report.iterations} iterations, {report.evaluations} evaluations, {report.seconds:.2f} s, "
        f"provider {report.provider}, model {report.model}"
    )
    print(f"mean absolute change {changed:.4f}, progress steps {steps}")
    if out_path:
        with open(out_path, "wb") as out:
            out.write(b"P6\n%d %d\n255\n" % (width, height) + result.data)
    if steps != [1, 2, 3] or changed < 0.01:
        sys.exit("FAILED")
    print("ok")


if __name__ == "__main__":
    main()
