"""Neural Style for Krita: neural style transfer (Gatys et al.) of a layer into a new layer, with the nst engine
vendored in the `nst` subpackage. Krita imports this package at start-up; outside Krita (scripts, tests) the
submodules import without registering anything."""

try:
    from krita import Krita
except ImportError:  # not inside Krita
    Krita = None

if Krita is not None and Krita.instance() is not None:
    from .extension import NeuralStyleExtension

    Krita.instance().addExtension(NeuralStyleExtension(Krita.instance()))
