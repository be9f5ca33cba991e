"""onnx.checker.check_model(full_check=True) on each file given; prints one line per file."""
import sys

import onnx

for path in sys.argv[1:]:
    onnx.checker.check_model(path, full_check=True)
    print("checked", path)
