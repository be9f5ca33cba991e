"""Stylizes an image through the nst C ABI from Python, with ctypes only (no extra packages).

usage: python3 stylize.py PATH/TO/libnst.so [PRESET] [OUT.ppm]

Builds a synthetic 40x24 RGB gradient, runs the preset (default: mosaic) at 40 px for 3 iterations with a
progress callback, checks the result and prints the run report. Exit status 0 when everything held.
"""
import ctypes
import sys

NST_ABI_VERSION = 2
NST_OK, NST_CANCELLED = 0, 11
NST_RGB8 = 2


class NstImage(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32), ("stride", ctypes.c_size_t),
                ("format", ctypes.c_uint32), ("pixels", ctypes.c_void_p)]


class NstOverrides(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("size", ctypes.c_uint32), ("iterations", ctypes.c_uint32),
                ("seed", ctypes.c_int64), ("style_weight", ctypes.c_double), ("model_seed", ctypes.c_int64),
                ("model_path", ctypes.c_char_p), ("pooling", ctypes.c_uint32), ("init", ctypes.c_uint32),
                ("keep_colours", ctypes.c_int32), ("match_colours", ctypes.c_int32), ("scales", ctypes.c_uint32),
                ("style_scale", ctypes.c_double), ("style_weights", ctypes.POINTER(ctypes.c_float)),
                ("preview_iteration", ctypes.c_uint32), ("preview", ctypes.c_void_p),
                ("preview_user_data", ctypes.c_void_p), ("style_masks", ctypes.c_void_p),
                ("style_mask_count", ctypes.c_size_t), ("content_mask", ctypes.c_void_p)]


class NstRunReport(ctypes.Structure):
    _fields_ = [("iterations", ctypes.c_uint32), ("evaluations", ctypes.c_uint32),
                ("working_width", ctypes.c_uint32), ("working_height", ctypes.c_uint32),
                ("seconds", ctypes.c_double), ("loss_total", ctypes.c_double), ("loss_content", ctypes.c_double),
                ("loss_style", ctypes.c_double), ("loss_total_variation", ctypes.c_double),
                ("provider", ctypes.c_char * 16), ("model", ctypes.c_char * 256)]


PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_double)


def last_error(lib):
    length = lib.nst_last_error(None, 0)
    buffer = ctypes.create_string_buffer(length + 1)
    lib.nst_last_error(buffer, length + 1)
    return buffer.value.decode()


def main():
    lib = ctypes.CDLL(sys.argv[1])
    preset = (sys.argv[2] if len(sys.argv) > 2 else "mosaic").encode()
    out_path = sys.argv[3] if len(sys.argv) > 3 else None
    lib.nst_abi_version.restype = ctypes.c_uint32
    lib.nst_version.restype = ctypes.c_char_p
    lib.nst_last_error.restype = ctypes.c_size_t
    lib.nst_last_error.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    lib.nst_engine_create.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.nst_engine_free.argtypes = [ctypes.c_void_p]
    lib.nst_engine_free.restype = ctypes.c_uint32
    lib.nst_overrides_init.argtypes = [ctypes.POINTER(NstOverrides), ctypes.c_size_t]
    lib.nst_stylize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(NstOverrides),
                                ctypes.POINTER(NstImage), ctypes.POINTER(NstImage), ctypes.c_size_t,
                                ctypes.POINTER(NstImage), PROGRESS, ctypes.c_void_p, ctypes.POINTER(NstRunReport)]
    if lib.nst_abi_version() != NST_ABI_VERSION:
        sys.exit(f"plugin ABI {lib.nst_abi_version()}, this script speaks {NST_ABI_VERSION}")
    print("nst", lib.nst_version().decode())

    engine = ctypes.c_void_p()
    status = lib.nst_engine_create(b'provider = "cpu"\nthreads = 2\n', ctypes.byref(engine))
    if status != NST_OK:
        sys.exit(f"nst_engine_create: {last_error(lib)}")

    width, height = 40, 24
    content = bytes((x * 6 % 256, y * 10 % 256, 90)[c] for y in range(height) for x in range(width) for c in range(3))
    content_buffer = ctypes.create_string_buffer(content, len(content))
    output_buffer = ctypes.create_string_buffer(len(content))
    content_view = NstImage(width, height, width * 3, NST_RGB8, ctypes.cast(content_buffer, ctypes.c_void_p))
    output_view = NstImage(width, height, width * 3, NST_RGB8, ctypes.cast(output_buffer, ctypes.c_void_p))
    overrides = NstOverrides()
    lib.nst_overrides_init(ctypes.byref(overrides), ctypes.sizeof(overrides))
    overrides.size, overrides.iterations = 40, 3
    steps = []

    @PROGRESS
    def on_progress(_user, step, total, loss):
        steps.append(step)
        print(f"step {step}/{total} loss {loss:.4e}")
        return 0

    report = NstRunReport()
    status = lib.nst_stylize(engine, preset, ctypes.byref(overrides), ctypes.byref(content_view), None, 0,
                             ctypes.byref(output_view), on_progress, None, ctypes.byref(report))
    lib.nst_engine_free(engine)
    if status != NST_OK:
        sys.exit(f"nst_stylize failed ({status}): {last_error(lib)}")
    result = output_buffer.raw
    changed = sum(abs(a - b) for a, b in zip(result, content)) / len(content) / 255
    print(f"report: {report.iterations} iterations, {report.evaluations} evaluations, {report.seconds:.2f} s, "
          f"provider {report.provider.decode()}, model {report.model.decode()}")
    print(f"mean absolute change {changed:.4f}, progress steps {steps}")
    if out_path:
        with open(out_path, "wb") as out:
            out.write(b"P6\n%d %d\n255\n" % (width, height) + result)
    if steps != [1, 2, 3] or changed < 0.01:
        sys.exit("FAILED")
    print("ok")


if __name__ == "__main__":
    main()
