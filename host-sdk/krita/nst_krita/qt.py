"""The Qt names the plug-in uses, from PyQt5 (Krita 5) or PyQt6 (Krita 6): the rest of the plug-in imports Qt
from here only, so the move to Krita 6 is this file."""

from __future__ import annotations

try:
    from PyQt5 import QtCore, QtGui, QtWidgets

    QT_MAJOR = 5
except ImportError:  # Krita 6
    from PyQt6 import QtCore, QtGui, QtWidgets  # type: ignore[no-redef]

    QT_MAJOR = 6

# The same names in both: each is taken once, from whichever binding loaded.
QObject = QtCore.QObject
Qt = QtCore.Qt
QTimer = QtCore.QTimer
pyqtSignal = QtCore.pyqtSignal
QImage = QtGui.QImage
QPixmap = QtGui.QPixmap
QApplication = QtWidgets.QApplication
QCheckBox = QtWidgets.QCheckBox
QComboBox = QtWidgets.QComboBox
QDialog = QtWidgets.QDialog
QDoubleSpinBox = QtWidgets.QDoubleSpinBox
QFileDialog = QtWidgets.QFileDialog
QFormLayout = QtWidgets.QFormLayout
QHBoxLayout = QtWidgets.QHBoxLayout
QLabel = QtWidgets.QLabel
QLineEdit = QtWidgets.QLineEdit
QMessageBox = QtWidgets.QMessageBox
QProgressBar = QtWidgets.QProgressBar
QPushButton = QtWidgets.QPushButton
QSpinBox = QtWidgets.QSpinBox
QVBoxLayout = QtWidgets.QVBoxLayout
QWidget = QtWidgets.QWidget

#: QImage's RGBA8888 format under both spellings (PyQt6 scopes enums).
RGBA8888 = QImage.Format.Format_RGBA8888 if QT_MAJOR == 6 else QImage.Format_RGBA8888
#: Smooth scaling of a preview.
SMOOTH = Qt.TransformationMode.SmoothTransformation if QT_MAJOR == 6 else Qt.SmoothTransformation
KEEP_ASPECT = Qt.AspectRatioMode.KeepAspectRatio if QT_MAJOR == 6 else Qt.KeepAspectRatio


def run_modal(dialog: QDialog) -> int:
    """Runs `dialog` modally: `exec_` in PyQt5, `exec` in PyQt6."""
    return dialog.exec() if QT_MAJOR == 6 else dialog.exec_()


__all__ = [
    "KEEP_ASPECT",
    "QT_MAJOR",
    "RGBA8888",
    "SMOOTH",
    "QApplication",
    "QCheckBox",
    "QComboBox",
    "QDialog",
    "QDoubleSpinBox",
    "QFileDialog",
    "QFormLayout",
    "QHBoxLayout",
    "QImage",
    "QLabel",
    "QLineEdit",
    "QMessageBox",
    "QObject",
    "QPixmap",
    "QProgressBar",
    "QPushButton",
    "QSpinBox",
    "QTimer",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "pyqtSignal",
    "run_modal",
]
