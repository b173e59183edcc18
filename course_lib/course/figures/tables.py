"""Tables and source code in a notebook: rows of dicts as a Markdown table, and the package's own source of a
function or class (so a notebook explains the code that actually runs, not a pasted copy)."""

from __future__ import annotations

import inspect
from typing import Any, Mapping, Sequence

from ..frontend import in_notebook

__all__ = ["format_table", "show_table", "source_of", "show_source"]


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                 floatfmt: str = "{:.4g}") -> str:
    """Format rows (dicts) as a Markdown table; ``columns`` picks and orders the keys (default: first row's)."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def cell(v):
        if isinstance(v, float):
            return floatfmt.format(v)
        if isinstance(v, tuple):
            return "×".join(str(d) for d in v)
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def show_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Display rows as a Markdown table in a notebook (printed as text elsewhere)."""
    text = format_table(rows, columns)
    if in_notebook():
        from IPython.display import Markdown, display

        display(Markdown(text))
    else:
        print(text)


def source_of(obj: Any) -> str:
    """The source code of a class, function or method of ``course_lib`` (``inspect.getsource``)."""
    try:
        return inspect.getsource(obj)
    except (TypeError, OSError) as error:
        raise ValueError(f"obj: cannot find the source of {obj!r} ({error})") from error


def show_source(obj: Any) -> None:
    """Show the package's own source of ``obj``, syntax-highlighted in a notebook (printed elsewhere), so a
    notebook explains the code that actually runs instead of a pasted copy that could drift from it."""
    text = source_of(obj)
    if in_notebook():
        from IPython.display import Code, display

        display(Code(text, language="python"))
    else:
        print(text)
