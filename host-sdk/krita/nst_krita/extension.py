"""The Krita extension: the Neural Style action, in Tools > Scripts and in the Filter menu, opening the dialog
on the active layer."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from krita import Extension, Krita

from . import document, pixels
from .qt import QMessageBox, QTimer

ACTION_ID = "nst_neural_style"


class NeuralStyleExtension(Extension):  # type: ignore[misc]
    """Registers the action in each main window."""

    def __init__(self, parent: Any) -> None:
        super().__init__(parent)
        self._dialog: Optional[Any] = None  # the open dialog, kept alive while it runs
        self._actions: List[Tuple[Any, Any]] = []  # (main window, action) of each window

    def setup(self) -> None:
        """Krita fills the Filter menu anew when a view opens: the action joins it after that."""
        Krita.instance().notifier().viewCreated.connect(lambda _view: QTimer.singleShot(0, self._place))

    def createActions(self, window: Any) -> None:  # Krita calls it by this name
        """The action, in Tools > Scripts, and in the Filter menu once a view is open (Krita's API places
        actions under Tools only)."""
        action = window.createAction(ACTION_ID, "Neural Style…", "tools/scripts")
        action.setToolTip("Neural style transfer of the active layer into a new layer")
        action.triggered.connect(self.open_dialog)
        self._actions.append((window.qwindow(), action))

    def _place(self) -> None:
        for main_window, action in self._actions:
            for menu_action in main_window.menuBar().actions():
                menu = menu_action.menu()
                if menu_action.objectName().lower() == "filter" and menu is not None and action not in menu.actions():
                    menu.addSeparator()
                    menu.addAction(action)

    def open_dialog(self) -> None:
        """The dialog on the active document's active layer, or a message saying why not."""
        from .dialog import NeuralStyleDialog  # the engine loads with the dialog, not with Krita

        app = Krita.instance()
        window = app.activeWindow()
        parent = window.qwindow() if window is not None else None
        doc = app.activeDocument()
        node = doc.activeNode() if doc is not None else None
        problem = None
        if doc is None:
            problem = "Open an image first: Neural Style works on its active layer."
        elif node is None or node.type() != "paintlayer":
            problem = "Select a paint layer: Neural Style makes a new layer from it."
        else:
            try:
                document.layout_of(node)
            except pixels.UnsupportedLayer as error:
                problem = str(error)
        if problem is not None:
            QMessageBox.warning(parent, "Neural Style", problem)
            return
        if self._dialog is not None and self._dialog.isVisible():
            self._dialog.raise_()
            return
        self._dialog = NeuralStyleDialog(doc, node, parent)
        self._dialog.show()
