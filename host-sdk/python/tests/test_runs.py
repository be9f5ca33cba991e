"""Runs: progress, cancelling from the callback and from another thread, the preview, the report, errors, and the
descriptions (presets, models, benchmark)."""

from __future__ import annotations

import math
import threading
import time
from typing import List, Tuple

import numpy as np
import pytest

import nst
from conftest import gradient_rgb, quick_preset


def content() -> np.ndarray:
    return np.frombuffer(gradient_rgb(), np.uint8).reshape(24, 40, 3).copy()


def test_progress_sees_every_iteration_and_the_report_says_what_ran(engine: nst.Engine) -> None:
    seen: List[Tuple[int, int, float]] = []
    engine.stylize(content(), quick_preset(iterations=4), progress=lambda s, t, loss: seen.append((s, t, loss)))
    assert [s for s, _, _ in seen] == [1, 2, 3, 4]
    assert all(t == 4 and math.isfinite(loss) and loss > 0 for _, t, loss in seen)
    report = engine.last_report
    assert report is not None and report.iterations == 4 and report.evaluations >= 4
    assert report.provider == "cpu" and "random-weight" in report.model
    assert max(report.working_size) == 32


def test_a_progress_callback_returning_false_cancels_the_run(engine: nst.Engine) -> None:
    steps: List[int] = []

    def stop_at_two(step: int, _total: int, _loss: float) -> bool:
        steps.append(step)
        return step < 2

    with pytest.raises(nst.CancelledError) as raised:
        engine.stylize(content(), quick_preset(iterations=50), progress=stop_at_two)
    assert raised.value.status == 11
    assert steps == [1, 2]
    engine.stylize(content(), quick_preset())  # the engine runs again after a cancel


def test_cancel_from_another_thread_while_the_gil_is_free(engine: nst.Engine) -> None:
    """The native call releases the GIL: a thread keeps running during the run, and cancels it."""
    first_step = threading.Event()
    ticks = [0]
    done = threading.Event()

    def other_thread() -> None:
        first_step.wait(60)
        started = time.monotonic()
        while time.monotonic() - started < 0.5:  # pure Python work: needs the GIL the run must not hold
            ticks[0] += 1
        engine.cancel()
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    steps: List[int] = []
    with pytest.raises(nst.CancelledError):
        engine.stylize(
            content(),
            quick_preset(iterations=5000, size=64),
            progress=lambda s, t, loss: (steps.append(s), first_step.set()) and None,
        )
    worker.join(60)
    assert done.is_set()
    assert ticks[0] > 10000, f"the other thread barely ran ({ticks[0]} ticks): the GIL was held"
    assert 1 <= len(steps) < 5000


def test_an_exception_in_a_callback_stops_the_run_and_is_raised_again(engine: nst.Engine) -> None:
    def broken(step: int, _total: int, _loss: float) -> None:
        raise KeyError(f"boom at {step}")

    with pytest.raises(KeyError, match="boom at 1"):
        engine.stylize(content(), quick_preset(iterations=50), progress=broken)


def test_the_preview_arrives_early_as_the_same_kind_of_image(engine: nst.Engine) -> None:
    previews: List[Tuple[np.ndarray, int]] = []
    steps: List[int] = []
    engine.stylize(
        content(),
        quick_preset(iterations=6),
        preview=lambda image: previews.append((image, len(steps))),
        preview_at=2,
        progress=lambda s, t, loss: steps.append(s) and None,
    )
    assert len(previews) == 1
    image, steps_before = previews[0]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape[2] == 4
    # Delivered after iteration 2, before that iteration's progress call: early, not at the end.
    assert max(image.shape[:2]) <= 256 and steps_before in (1, 2) and len(steps) == 6
    assert (image[:, :, 3] == 255).all()


def test_every_override_of_the_c_abi_is_reachable_from_stylize(engine: nst.Engine) -> None:
    from nst._ffi import NstOverrides

    arguments = set(nst.Engine.stylize.__code__.co_varnames)
    internal = {"struct_size", "preview_user_data", "style_mask_count", "style_weight_count"}
    spelled = {
        "model_path": "model",
        "style_weights": "style_blend",
        "preview_iteration": "preview_at",
        "style_weight_scale": "strength",
    }
    for field, _ in NstOverrides._fields_:
        if field not in internal:
            assert spelled.get(field, field) in arguments, f"NstOverrides.{field} has no stylize argument"


def test_overrides_change_the_run(engine: nst.Engine) -> None:
    base = engine.stylize(content(), quick_preset(), seed=1)
    changes = [
        {"size": 24},
        {"iterations": 5},
        {"strength": 10.0},
        {"style_weight": 1e3},
        {"init": "noise", "seed": 5},
        {"pooling": "max"},  # the quick preset pools by average
        {"keep_colours": True},
        {"match_colours": True},
        {"style_scale": 0.5},
        {"model_seed": 7},
        {"style": [np.full((16, 16, 3), 200, np.uint8), np.zeros((8, 8, 3), np.uint8)], "style_blend": [1.0, 3.0]},
    ]
    for change in changes:
        changed = engine.stylize(content(), quick_preset(), **change)
        assert changed.shape == base.shape
        assert not np.array_equal(changed, base), f"{change} did not change the result"

    # The content mask weighs the content term, which the quick preset's style weight drowns: weigh them alike.
    ramp = np.repeat(np.linspace(0, 255, 40, dtype=np.uint8)[None, :], 24, axis=0)
    plain = engine.stylize(content(), quick_preset(iterations=8), style_weight=1.0)
    masked = engine.stylize(content(), quick_preset(iterations=8), style_weight=1.0, content_mask=ramp)
    assert not np.array_equal(plain, masked), "the content mask did not change the result"


def test_style_masks_must_match_the_styles(engine: nst.Engine) -> None:
    styles = [np.full((16, 16, 3), 200, np.uint8), np.zeros((8, 8, 3), np.uint8)]
    left = np.zeros((24, 40), np.uint8)
    left[:, :20] = 255
    masked = engine.stylize(content(), quick_preset(), style=styles, style_masks=[left, 255 - left])
    assert masked.shape == (24, 40, 3)
    with pytest.raises(nst.InvalidArgumentError, match="mask"):
        engine.stylize(content(), quick_preset(), style=styles, style_masks=[left])


def test_a_bad_preset_raises_its_status_and_the_engines_message(engine: nst.Engine) -> None:
    with pytest.raises(nst.PresetError) as raised:
        engine.stylize(content(), quick_preset().replace("iterations = 3", "iterations = -3"))
    assert raised.value.status == 6
    assert "iterations" in raised.value.message and "line 10" in raised.value.message, raised.value.message
    with pytest.raises(nst.PresetError, match="no-such-preset"):
        engine.stylize(content(), "no-such-preset")
    with pytest.raises(ValueError, match="iterations"):
        engine.stylize(content(), quick_preset(), iterations=0)


def test_a_status_this_package_does_not_know_still_raises_with_its_number() -> None:
    from nst._errors import error_for

    error = error_for(99, "from a newer library")
    assert type(error) is nst.Error and error.status == 99 and "status 99" in str(error)
    assert isinstance(error_for(6, "bad"), nst.PresetError)


def test_a_closed_engine_refuses_work() -> None:
    with nst.Engine("cpu", threads=1) as engine:
        pass
    with pytest.raises(nst.InvalidHandleError):
        engine.stylize(content(), quick_preset())
    engine.close()  # twice is harmless


def test_presets_models_descriptions_and_the_benchmark(engine: nst.Engine) -> None:
    names = [p["name"] for p in nst.presets()]
    assert "mosaic" in names and nst.DEFAULT_PRESET in names
    models = nst.models()
    assert models["models"][0]["name"] == "builtin" and models["models"][0]["pretrained"] is False
    preset = engine.describe_preset("mosaic")
    assert preset["name"] == "mosaic" and preset["iterations"] > 0
    assert "random-weight" in preset["model_summary"]
    assert nst.describe_preset(quick_preset(), provider="cpu")["description"] == "quick"
    described = engine.describe()
    assert {p["name"] for p in described["parameters"]} >= {"size", "iterations"}
    bench = engine.benchmark("mosaic", size=32, evaluations=1)
    assert bench["size"] == 32 and bench["seconds_per_evaluation"] > 0 and bench["peak_gflops"] > 0
    assert nst.version().count(".") == 2
