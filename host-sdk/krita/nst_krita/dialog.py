"""The Neural Style dialog: preset, style, strength, working size (with the time it takes here), iterations,
seed and colours; Preview and Run work on a thread of their own, with a progress bar and Cancel. Everything in
this module runs on the GUI thread."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from . import document, job, nst, shared_engine
from .qt import (
    KEEP_ASPECT,
    SMOOTH,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPixmap,
    QProgressBar,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from .worker import Task

PRESET_FILE = "Preset file…"
PRESET_STYLE = "The preset's style images"
STYLE_FILE = "Image file…"

#: The choices of the last run in this Krita session, offered again.
_last: Optional[job.Settings] = None


def _file_row(line: QLineEdit, browse: Callable[[], None]) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(line)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    layout.addWidget(button)
    return row


def _wrapped(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class NeuralStyleDialog(QDialog):
    """The filter's dialog on layer `node` of `doc`."""

    def __init__(self, doc: Any, node: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Neural Style")
        self._doc, self._node = doc, node
        self._task: Optional[Task] = None
        self._job: Optional[job.Job] = None
        self._closing = False
        self._described: Dict[str, Dict[str, Any]] = {}
        self._layers: List[Any] = [n for n in document.paint_layers(doc) if n.uniqueId() != node.uniqueId()]
        selection = doc.selection()
        has_area = selection is not None and selection.width() > 0
        self._area = (selection.width(), selection.height()) if has_area else (doc.width(), doc.height())
        self._build()
        self._restore(_last or job.Settings())

    # --- the widgets -------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.preset = QComboBox()
        self.preset.addItems(shared_engine.preset_names() + [PRESET_FILE])
        self.preset_file = QLineEdit()
        self.preset_file.setPlaceholderText("a preset .toml file")
        self.preset_info = _wrapped()
        self.style = QComboBox()
        self.style.addItems([PRESET_STYLE] + [f"Layer: {n.name()}" for n in self._layers] + [STYLE_FILE])
        self.style_file = QLineEdit()
        self.style_file.setPlaceholderText("a picture to take the style from")
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.01, 100.0)
        self.strength.setSingleStep(0.1)
        self.strength.setToolTip("Multiplies the preset's style weight: above 1, more style; below 1, more content.")
        self.size = QSpinBox()
        self.size.setRange(16, 8192)
        self.size.setSuffix(" px")
        self.size.setToolTip("The long side of the image the engine works on; the result is scaled to the layer.")
        self.iterations = QSpinBox()
        self.iterations.setRange(1, 10000)
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setSpecialValueText("the preset's")
        self.keep_colours = QCheckBox("&Keep the layer's colours (transfer the style's light and texture only)")
        self.estimate = _wrapped()
        self.model = _wrapped()

        self.inputs = QWidget()  # disabled as a whole during a run
        form = QFormLayout(self.inputs)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Pr&eset:", self.preset)
        form.addRow("Preset file:", _file_row(self.preset_file, self._browse_preset))
        form.addRow("", self.preset_info)
        form.addRow("&Style:", self.style)
        form.addRow("Style file:", _file_row(self.style_file, self._browse_style))
        form.addRow("S&trength:", self.strength)
        form.addRow("&Working size:", self.size)
        form.addRow("&Iterations:", self.iterations)
        form.addRow("See&d:", self.seed)
        form.addRow("", self.keep_colours)
        form.addRow("", self.estimate)
        form.addRow("", self.model)

        self.preview_image = QLabel("Preview: press Preview for a quick look at the selection or the layer.")
        self.preview_image.setMinimumSize(job.PREVIEW_SIDE, job.PREVIEW_SIDE // 2)
        self.preview_image.setWordWrap(True)
        self.preview_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = _wrapped(f"Source: layer '{self._node.name()}', {self._area[0]}x{self._area[1]} pixels.")
        self.preview_button = QPushButton("&Preview")
        self.run_button = QPushButton("&Run")
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("&Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.inputs)
        layout.addWidget(self.preview_image)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.setMinimumWidth(640)

        self.preset.currentIndexChanged.connect(self._preset_changed)
        self.preset_file.editingFinished.connect(self._preset_changed)
        self.style.currentIndexChanged.connect(self._style_changed)
        self.size.valueChanged.connect(self._update_estimate)
        self.iterations.valueChanged.connect(self._update_estimate)
        self.preview_button.clicked.connect(self._preview)
        self.run_button.clicked.connect(self._run)
        self.cancel_button.clicked.connect(self._cancel_or_close)

    def _restore(self, last: job.Settings) -> None:
        self.preset.blockSignals(True)  # one update below, not one per change
        if last.preset.endswith(".toml"):
            self.preset_file.setText(last.preset)
            self.preset.setCurrentText(PRESET_FILE)
        else:
            self.preset.setCurrentText(
                last.preset if last.preset in shared_engine.preset_names() else nst.DEFAULT_PRESET
            )
        self.preset.blockSignals(False)
        self.strength.setValue(last.strength)
        self.seed.setValue(-1 if last.seed is None else last.seed)
        self.keep_colours.setChecked(bool(last.keep_colours))
        self._style_changed()
        self._preset_changed()

    def _browse_preset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Preset file", "", "Presets (*.toml)")
        if path:
            self.preset_file.setText(path)
            self.preset.setCurrentText(PRESET_FILE)
            self._preset_changed()

    def _browse_style(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Style image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        if path:
            self.style_file.setText(path)
            self.style.setCurrentText(STYLE_FILE)

    def _style_changed(self) -> None:
        self.style_file.setEnabled(self.style.currentText() == STYLE_FILE)

    # --- the preset's values, the model line and the estimate --------------------------------------------------

    def preset_text(self) -> str:
        """The preset as the engine takes it: a bundled name or a file's path."""
        if self.preset.currentText() == PRESET_FILE:
            return self.preset_file.text().strip()
        return self.preset.currentText()

    def _preset_changed(self) -> None:
        self.preset_file.setEnabled(self.preset.currentText() == PRESET_FILE)
        preset = self.preset_text()
        if not preset:
            self.preset_info.setText("Choose a preset file.")
            return
        if preset in self._described:
            self._show_preset(preset, self._described[preset])
            return
        self.preset_info.setText("Reading the preset…")
        self._background(lambda _progress: shared_engine.engine().describe_preset(preset), self._described_preset)

    def _described_preset(self, described: Dict[str, Any]) -> None:
        preset = self.preset_text()
        self._described[preset] = described
        self._show_preset(preset, described)

    def _show_preset(self, preset: str, described: Dict[str, Any]) -> None:
        size, iterations = int(described.get("size") or max(self._area)), int(described.get("iterations") or 100)
        self.preset_info.setText(
            f"{described.get('description') or '(no description)'}\nPreset's values: working size {size} px, "
            f"{iterations} iterations, style weight {described.get('style_weight', 0):g} (strength 1)."
        )
        self.model.setText(shared_engine.model_line(described))
        self.adjustSize()
        last = _last if _last is not None and _last.preset == preset else None
        self.size.setValue(last.size if last and last.size else size)
        self.iterations.setValue(last.iterations if last and last.iterations else iterations)
        self.estimate.setText("Measuring this machine's speed…")
        self._background(lambda _progress: shared_engine.seconds_per_evaluation(preset), self._measured)

    def _measured(self, per_evaluation: Optional[float]) -> None:
        self._per_evaluation = per_evaluation
        self._update_estimate()

    def _update_estimate(self) -> None:
        if not hasattr(self, "_per_evaluation"):
            return
        width, height = self._area
        side = min(self.size.value(), max(width, height))
        text = shared_engine.estimate_text(self._per_evaluation, width, height, side, self.iterations.value())
        self.estimate.setText(text)
        self.adjustSize()

    def _background(self, work: Callable[[Any], Any], done: Callable[[Any], None]) -> None:
        """Quick engine work (describing, measuring) off the GUI thread; its failure shows in the preset line."""
        task = Task(work, self)
        task.succeeded.connect(done)
        task.failed.connect(lambda message: self.preset_info.setText(f"This preset cannot be used: {message}"))
        task.start()

    # --- preview and run ---------------------------------------------------------------------------------------

    def settings(self) -> job.Settings:
        """The dialog's choices."""
        return job.Settings(
            preset=self.preset_text(),
            strength=self.strength.value(),
            size=self.size.value(),
            iterations=self.iterations.value(),
            seed=None if self.seed.value() < 0 else self.seed.value(),
            keep_colours=True if self.keep_colours.isChecked() else None,  # unticked: the preset's
        )

    def _prepare(self) -> Optional[job.Job]:
        style_layer, style_file = None, None
        choice = self.style.currentIndex()
        if 0 < choice <= len(self._layers):
            style_layer = self._layers[choice - 1]
        elif self.style.currentText() == STYLE_FILE:
            style_file = self.style_file.text().strip()
            if not style_file:
                self.status.setText("Choose the style image file, or another style.")
                return None
        try:
            return job.prepare(self._doc, self._node, self.settings(), style_layer, style_file)
        except ValueError as error:
            self.status.setText(str(error))
            return None

    def _start(self, what: str, work: Callable[[job.Job, Any], Any], done: Callable[[Any], None]) -> None:
        prepared = self._prepare()
        if prepared is None:
            return
        self._job = prepared
        self._task = Task(lambda progress: work(prepared, progress), self)
        self._task.progressed.connect(self._progressed)
        self._task.succeeded.connect(done)
        self._task.failed.connect(self._failed)
        self._task.cancelled.connect(self._cancelled)
        self._set_running(True)
        self.status.setText(f"{what}…")
        self.progress.setRange(0, 0)  # busy until the first iteration reports
        self._task.start()

    def _preview(self) -> None:
        self._start("Previewing", lambda j, p: j.preview(shared_engine.engine(), p), self._previewed)

    def _run(self) -> None:
        global _last
        _last = self.settings()
        self._start("Running", lambda j, p: j.run(shared_engine.engine(), p), self._finished)

    def _set_running(self, running: bool) -> None:
        for widget in (self.inputs, self.preview_button, self.run_button):
            widget.setEnabled(not running)
        self.cancel_button.setText("&Cancel" if running else "&Close")

    def _progressed(self, step: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(step)
        self.status.setText(f"Iteration {step} of {total}…")

    def _ended(self) -> bool:
        """Back to idle after a task; whether the dialog is closing instead."""
        self._task = None
        self._set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if self._closing:
            super().reject()
            return True
        return False

    def _previewed(self, image: nst.Image) -> None:
        if self._ended():
            return
        picture = document.display_image(image.data, image.width, image.height)
        shown = QPixmap.fromImage(picture).scaled(job.PREVIEW_SIDE * 2, job.PREVIEW_SIDE, KEEP_ASPECT, SMOOTH)
        self.preview_image.setPixmap(shown)
        self.adjustSize()
        self.status.setText(
            f"Preview: {image.width}x{image.height}, at most {job.PREVIEW_ITERATIONS} iterations. Run works at the "
            "size above."
        )

    def _finished(self, result: bytes) -> None:
        if self._ended() or self._job is None:
            return
        try:
            job.apply(self._job, result)
        except ValueError as error:
            self.status.setText(str(error))
            return
        self.accept()

    def _failed(self, message: str) -> None:
        if not self._ended():
            self.status.setText(f"The run failed: {message}")

    def _cancelled(self) -> None:
        if not self._ended():
            self.status.setText("Cancelled: the image is as it was.")

    def _cancel_or_close(self) -> None:
        """The Cancel button: stops a run in progress and keeps the dialog; without one, closes it."""
        if self._task is not None and self._task.running() and self._job is not None:
            self.status.setText("Cancelling…")
            self._job.cancel(shared_engine.current())
            return
        super().reject()

    def reject(self) -> None:
        """Cancel or Escape: stops a run in progress (the dialog closes once the engine has stopped), else
        closes."""
        if self._task is not None and self._task.running() and self._job is not None:
            self._closing = True
            self.status.setText("Cancelling…")
            self._job.cancel(shared_engine.current())
            return
        super().reject()
