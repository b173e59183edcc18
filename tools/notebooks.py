"""Keep the course notebooks tidy. The notebooks in ``notebooks/*.ipynb`` are their own source: edit a notebook
in Jupyter (or any editor), then run

    python tools/notebooks.py            # clear outputs, point every Colab badge and install cell at the repository
    python tools/notebooks.py --check    # the same, but only report what it would change (exit status 1 if any)

and commit the notebooks. ``tests/test_notebooks_source.py`` runs the check, so a notebook committed with outputs,
with a stale repository address or with a hand-edited install cell fails the tests.

What it fixes in every notebook:

* outputs and execution counts are cleared (notebooks are committed without outputs: they are the course's
  source, and nbval re-runs them), and per-cell execution metadata (``execution``, ``collapsed``, ``scrolled``)
  is dropped; tags and other metadata stay;
* the notebook metadata is the plain Python 3 kernel and Colab's ``provenance`` (saved widget state, Colab's
  machine settings and the like are dropped);
* cells without an id get one (``NN-xx``, the notebook's number and the cell index);
* the title cell's Colab badge links ``notebooks/<this file>`` in the repository, and its note names the
  repository;
* the install cell (the second cell) is :func:`install_cell`, the same in every notebook.

The repository address has one home: ``Repository`` under ``[project.urls]`` in ``pyproject.toml``. The installed
package carries it in its metadata, this tool writes it into the notebooks, and the test checks the README's Colab
links against it. For a fork: change that line, run this tool, update the README's links.

Conventions of a course notebook (what the tests and the course rely on): a title cell with the Colab badge and a
**Goal**, then the install cell, then a story (the picture, code, an experiment, an exercise, a summary); short
code cells that call ``course_lib`` (a cell longer than about 25 lines belongs in the package); ``# NBVAL_IGNORE_OUTPUT``
on cells whose output varies from run to run; what must hold asserted in the cells; run folders under ``runs/``
(git-ignored) or on Google Drive on Colab.

On Colab the install cell also enables Colab's custom widget manager (``output.enable_custom_widget_manager()``),
through which Colab renders ipywidgets 8 (what ``course_lib`` requires): every ``tqdm.auto`` progress bar is an
ipywidget too, so every notebook gets it. Off Colab the cell does nothing.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GITHUB = "https://github.com/"
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/main/notebooks/[\w.-]+\.ipynb")
NAMED_REPOSITORY = re.compile(r"`github\.com/[\w.-]+/[\w.-]+`")
CELL_METADATA_DROPPED = ("execution", "collapsed", "scrolled", "ExecuteTime")
NOTEBOOK_METADATA = {"colab": {"provenance": []},
                     "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}}

__all__ = ["repository_url", "install_cell", "tidy", "main"]


def repository_url(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The course repository's address, ``Repository`` under ``[project.urls]`` in pyproject.toml (its one home)."""
    import tomllib

    url = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("urls", {}).get("Repository")
    if not url or not url.startswith(GITHUB):
        raise SystemExit(f"{pyproject}: [project.urls] Repository must be a {GITHUB}<organisation>/<repository> "
                         f"address (Colab opens notebooks from GitHub), found {url!r}")
    return url.rstrip("/")


def install_cell(repository: str) -> str:
    """The second cell of every notebook: on Colab, install the package from ``repository`` and turn on the
    widget manager; elsewhere, nothing."""
    return f"""# On Colab: install the course package from GitHub and let Colab render ipywidgets 8 (the progress bars and
# panels). On your own machine (package already installed) this does nothing.
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+{repository}"], check=True)
    from google.colab import output
    output.enable_custom_widget_manager()"""


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def tidy(notebook: dict, name: str, repository: str) -> list[str]:
    """Fix ``notebook`` (the JSON of ``notebooks/<name>.ipynb``) in place; return what was changed, one line each."""
    org_repo = repository[len(GITHUB):]
    changes: list[str] = []
    cells = notebook.get("cells", [])
    if len(cells) < 2 or cells[0].get("cell_type") != "markdown" or cells[1].get("cell_type") != "code":
        raise ValueError(f"{name}.ipynb: expected a title cell (markdown) and the install cell (code) first")
    for index, cell in enumerate(cells):
        label = cell.get("id") or f"#{index}"
        if not cell.get("id"):
            cell["id"] = f"{name[:2]}-{index:02d}"
            changes.append(f"cell {index}: gave it the id {cell['id']}")
        if isinstance(cell.get("source"), list):
            cell["source"] = _source(cell)
        if cell["cell_type"] == "code":
            if cell.get("outputs"):
                changes.append(f"cell {label}: cleared {len(cell['outputs'])} output(s)")
            if cell.get("execution_count") is not None:
                changes.append(f"cell {label}: cleared the execution count")
            cell["outputs"], cell["execution_count"] = [], None
        dropped = [k for k in CELL_METADATA_DROPPED if k in cell.get("metadata", {})]
        for key in dropped:
            del cell["metadata"][key]
        if dropped:
            changes.append(f"cell {label}: dropped metadata {dropped}")
    title = _source(cells[0])
    badge = f"https://colab.research.google.com/github/{org_repo}/blob/main/notebooks/{name}.ipynb"
    fixed = NAMED_REPOSITORY.sub(f"`github.com/{org_repo}`", COLAB_LINK.sub(badge, title))
    if f"]({badge})" not in fixed:
        raise ValueError(f"{name}.ipynb: the title cell has no Colab badge ([![Open In Colab](...)](link))")
    if fixed != title:
        cells[0]["source"] = fixed
        changes.append("title cell: Colab badge / repository name now point at " + repository)
    wanted = install_cell(repository)
    if _source(cells[1]) != wanted:
        cells[1]["source"] = wanted
        changes.append("install cell: rewritten (it installs from " + repository + ")")
    metadata = notebook.get("metadata", {})
    if metadata != NOTEBOOK_METADATA:
        notebook["metadata"] = copy.deepcopy(NOTEBOOK_METADATA)
        changes.append(f"notebook metadata: kept only {sorted(NOTEBOOK_METADATA)} (had {sorted(metadata)})")
    if (notebook.get("nbformat"), notebook.get("nbformat_minor")) != (4, 5):
        changes.append(f"format: nbformat {notebook.get('nbformat')}.{notebook.get('nbformat_minor')} -> 4.5")
        notebook["nbformat"], notebook["nbformat_minor"] = 4, 5
    return changes


def render(notebook: dict) -> str:
    """The file's text in nbformat's own layout (what Jupyter writes: one-space indent, sources as line lists)."""
    import nbformat

    node = nbformat.from_dict(notebook)
    nbformat.validate(node)
    text = nbformat.writes(node)
    return text if text.endswith("\n") else text + "\n"


def write(notebook: dict, path: Path) -> None:
    """Write ``notebook`` to ``path`` atomically, in nbformat's layout."""
    tmp = path.with_suffix(".ipynb.tmp")
    tmp.write_text(render(notebook), encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Clear outputs and sync the repository address in the notebooks.")
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="report what would change, write nothing; exit 1 if any")
    args = parser.parse_args(argv)
    repository = repository_url()
    paths = args.paths or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        raise SystemExit(f"no notebooks found in {NOTEBOOKS}")
    dirty = 0
    for path in paths:
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise SystemExit(f"{path}: not a readable notebook ({error})")
        changes = tidy(notebook, path.stem, repository)
        if not changes and path.read_text(encoding="utf-8") != render(notebook):
            changes = ["layout: rewritten in nbformat's layout"]
        if changes:
            dirty += 1
            print(f"{path.name}:" + "".join(f"\n  {c}" for c in changes))
            if not args.check:
                write(notebook, path)
    verb = "would change" if args.check else "changed"
    print(f"{dirty} of {len(paths)} notebook(s) {verb}" if dirty else f"{len(paths)} notebook(s) tidy")
    return 1 if (args.check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main())
