"""Engine work off the GUI thread. A `Task` runs one function on a Python thread (the engine releases the GIL
while it works) and reports through Qt signals, which Qt queues to the GUI thread: the function must touch no
Krita or Qt object itself."""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from . import nst
from .qt import QObject, pyqtSignal

#: The work: given a progress(step, total) function, returns the result.
Work = Callable[[Callable[[int, int], None]], Any]


class Task(QObject):
    """One piece of engine work. Exactly one of `succeeded`, `failed` or `cancelled` follows `start()`."""

    progressed = pyqtSignal(int, int)
    succeeded = pyqtSignal(object)
    failed = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(self, work: Work, parent: Any = None) -> None:
        super().__init__(parent)
        self._work = work
        self._thread = threading.Thread(target=self._run, name="nst-krita-task", daemon=True)

    def start(self) -> None:
        """Starts the work on its own thread."""
        self._thread.start()

    def running(self) -> bool:
        """Whether the work has started and not yet returned."""
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._work(self.progressed.emit)
        except nst.CancelledError:
            self.cancelled.emit()
        except (nst.Error, ValueError, OSError) as error:
            self.failed.emit(str(error))
        except Exception:  # a bug: say it in the dialog rather than lose it on a thread
            self.failed.emit(traceback.format_exc())
        else:
            self.succeeded.emit(result)
