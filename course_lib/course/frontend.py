"""Where a notebook helper is running: a Jupyter kernel that shows rich output (:func:`in_notebook`), one where
ipywidgets render (:func:`live_frontend`), or neither (a terminal, a script, a test), where the helpers print text
instead."""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["in_notebook", "live_frontend", "NO_WIDGETS_ENV_VAR"]

#: Set this environment variable to any non-empty value to get the text fallback instead of widgets.
NO_WIDGETS_ENV_VAR = "COURSE_NO_WIDGETS"


def _ipython_shell() -> Any:
    """The running IPython shell, or None (IPython not imported, or no shell running)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        return ipython.get_ipython()
    except AttributeError:
        return None


def in_notebook() -> bool:
    """True in a Jupyter or Colab kernel (Colab's shell subclasses ipykernel's), where Markdown and highlighted
    code display; False in a terminal, a plain IPython shell or a script."""
    shell = _ipython_shell()
    if shell is None:
        return False
    try:
        from ipykernel.zmqshell import ZMQInteractiveShell
    except ImportError:
        return False
    return isinstance(shell, ZMQInteractiveShell)


def live_frontend() -> bool:
    """True in a Jupyter kernel (notebook, lab, Colab) where widgets can render; False in a terminal, a script,
    or when the ``COURSE_NO_WIDGETS`` environment variable is set."""
    if os.environ.get(NO_WIDGETS_ENV_VAR):
        return False
    shell = _ipython_shell()
    if shell is None or type(shell).__name__ not in ("ZMQInteractiveShell", "Shell"):  # "Shell": Colab's
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True
