"""A Krita plug-in for the GUI test (host-sdk/tests/krita_gui.rs), installed beside the Neural Style plug-in as
`nst_gui_driver`: it reads commands from $NST_KRITA_DRIVER/commands, one a line, and appends one reply line for
each to $NST_KRITA_DRIVER/replies. It runs on Krita's GUI thread (a timer), so a reply that comes while a run is
in progress shows that the GUI thread is free. Keys and clicks come from xdotool, not from here.

Commands: `new W H`, `select X Y W H`, `action ID`, `undo`, `redo`, `state TAG`, `dialog`, `menus`, `quit`.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, List

from krita import Extension, Krita, Selection
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QLabel, QProgressBar, QPushButton

FOLDER = os.environ.get("NST_KRITA_DRIVER", "")


def pattern(width: int, height: int) -> bytes:
    """A colour gradient under a two-pixel checkerboard, opaque, as Krita's 8-bit B, G, R, A."""
    pixels = bytearray()
    for y in range(height):
        for x in range(width):
            lift = 40 if (x // 2 + y // 2) % 2 == 0 else -40
            red, green, blue = 60 + x * 120 // width + lift, 60 + y * 120 // height + lift, 140 + lift
            pixels += bytes([blue, green, red, 255])
    return bytes(pixels)


class Driver(Extension):  # type: ignore[misc]
    def __init__(self, parent: Any) -> None:
        super().__init__(parent)
        self.done = 0
        self.doc: Any = None
        self.timer = QTimer()
        self.timer.timeout.connect(self.poll)

    def setup(self) -> None:
        pass

    def createActions(self, window: Any) -> None:
        self.timer.start(200)

    def reply(self, line: str) -> None:
        with open(os.path.join(FOLDER, "replies"), "a", encoding="utf-8") as file:
            file.write(line + "\n")

    def poll(self) -> None:
        path = os.path.join(FOLDER, "commands")
        if Krita.instance().activeWindow() is None or not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as file:
            lines = [line.strip() for line in file if line.strip()]
        for line in lines[self.done :]:
            self.done += 1
            try:
                self.reply(self.run(line.split()))
            except Exception as error:
                self.reply(f"error {line}: {type(error).__name__}: {error}")

    def run(self, words: List[str]) -> str:
        app = Krita.instance()
        command = words[0]
        if command == "new":
            width, height = int(words[1]), int(words[2])
            self.doc = app.createDocument(width, height, "nst-gui", "RGBA", "U8", "", 72.0)
            background = self.doc.rootNode().childNodes()[0]
            background.setPixelData(pattern(width, height), 0, 0, width, height)
            app.activeWindow().addView(self.doc)
            self.doc.setActiveNode(background)
            self.doc.refreshProjection()
            return "created"
        if command == "select":
            selection = Selection()
            selection.select(*[int(w) for w in words[1:5]], 255)
            self.doc.setSelection(selection)
            return "selected"
        if command == "action":
            app.action(words[1]).trigger()
            return f"triggered {words[1]}"
        if command == "undo":
            app.action("edit_undo").trigger()
            self.doc.waitForDone()
            return "undone"
        if command == "redo":
            app.action("edit_redo").trigger()
            self.doc.waitForDone()
            return "redone"
        if command == "state":
            self.doc.waitForDone()
            nodes = self.doc.rootNode().childNodes()
            source = nodes[0]
            size = (0, 0, self.doc.width(), self.doc.height())
            digest = hashlib.sha1(bytes(source.pixelData(*size))).hexdigest()
            names = "|".join(n.name() for n in nodes)
            top = nodes[-1]
            bounds = top.bounds()
            extent = f"{bounds.x()},{bounds.y()},{bounds.width()},{bounds.height()}"
            top_digest = hashlib.sha1(bytes(top.pixelData(*size))).hexdigest()
            fields = [f"layers={names}", f"source={digest}", f"top_bounds={extent}", f"top={top_digest}"]
            return "\t".join([f"state {words[1]}"] + fields)  # tabs: layer names hold spaces
        if command == "dialog":
            for widget in QApplication.topLevelWidgets():
                if widget.windowTitle() == "Neural Style" and widget.isVisible():
                    labels = [label for label in widget.findChildren(QLabel) if label.wordWrap()]
                    preview = any(label.pixmap() is not None and not label.pixmap().isNull() for label in labels)
                    bar = widget.findChildren(QProgressBar)[0]
                    buttons = {b.text().replace("&", ""): b.isEnabled() for b in widget.findChildren(QPushButton)}
                    texts = " / ".join(label.text().replace("\n", " ") for label in labels if label.text())
                    return (
                        f"dialog open preview={preview} progress={bar.value()}/{bar.maximum()} "
                        f"buttons={buttons} texts={texts}"
                    )
            return "dialog closed"
        if command == "menus":
            found = []
            for menu_action in app.activeWindow().qwindow().menuBar().actions():
                menu = menu_action.menu()
                if menu is None:
                    continue
                for entry in menu.actions():
                    if "Neural" in entry.text():
                        found.append(f"{menu_action.objectName()}:{entry.text()}")
                    if entry.menu() is not None:
                        found += [
                            f"{menu_action.objectName()}/{entry.objectName()}:{sub.text()}"
                            for sub in entry.menu().actions()
                            if "Neural" in sub.text()
                        ]
            return "menus " + ";".join(found)
        if command == "quit":
            os._exit(0)
        return f"unknown {command}"


Krita.instance().addExtension(Driver(Krita.instance()))
