"""The committed notebooks are exactly what tools/build_notebooks_part{1,2}.py make, and every link to the
repository (each notebook's Colab badge and install cell, the README's Colab links) agrees with its one home,
``Repository`` under ``[project.urls]`` in pyproject.toml.

The drift test rebuilds every notebook into a temporary folder with the builders' own command line (``--out``) and
compares it with notebooks/*.ipynb as JSON (cell types, ids, sources, outputs, metadata; not the byte layout). It
fails when a notebook was edited by hand (in Jupyter, or committed with outputs) or a builder was edited without
regenerating; the fix is ``python tools/build_notebooks_part1.py && python tools/build_notebooks_part2.py``.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib.util
import io
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
NOTEBOOKS = ROOT / "notebooks"
REGENERATE = "python tools/build_notebooks_part1.py && python tools/build_notebooks_part2.py"


def _load(name: str):
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))  # part 2 imports part 1 by name
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def part1():
    return _load("build_notebooks_part1")


@pytest.fixture(scope="module")
def part2():
    return _load("build_notebooks_part2")


@pytest.fixture(scope="module")
def built(part1, part2, tmp_path_factory) -> Path:
    """Every notebook, rebuilt by the builders' command line into a temporary folder."""
    out = tmp_path_factory.mktemp("notebooks")
    with contextlib.redirect_stdout(io.StringIO()):
        assert part1.main(["--out", str(out)]) == 0
        assert part2.main(["--out", str(out)], part2.BUILDERS) == 0
    return out


def _repository() -> str:
    import tomllib

    url = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Repository"]
    assert url.startswith("https://github.com/"), url
    return url.rstrip("/")


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _install_cell(notebook: dict) -> str:
    """The code cell right after the title (part 1's ``header``): the only one that pip-installs."""
    installing = [i for i, c in enumerate(notebook["cells"]) if '"pip", "install"' in _source(c)]
    assert installing == [1] and notebook["cells"][1]["cell_type"] == "code", f"install cells at {installing}"
    return _source(notebook["cells"][1])


def test_every_committed_notebook_has_a_builder(part1, part2):
    names = set(part1.BUILDERS) | set(part2.BUILDERS)
    committed = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    assert committed == names, (f"notebooks without a builder: {sorted(committed - names)}; "
                                f"builders without a committed notebook: {sorted(names - committed)} ({REGENERATE})")


def test_committed_notebooks_have_no_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in _read(path)["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, (
                    f"{path.name}, cell {cell.get('id')}: commit notebooks without outputs ({REGENERATE})")


def test_committed_notebooks_are_what_the_builders_make(built):
    stale = []
    for fresh_path in sorted(built.glob("*.ipynb")):
        committed_path = NOTEBOOKS / fresh_path.name
        if not committed_path.exists():
            stale.append(f"{fresh_path.name}: not committed")
            continue
        fresh, committed = _read(fresh_path), _read(committed_path)
        fresh_ids = [c.get("id") for c in fresh["cells"]]
        committed_ids = [c.get("id") for c in committed["cells"]]
        if fresh_ids != committed_ids:
            stale.append(f"{fresh_path.name}: cells {committed_ids} committed, {fresh_ids} built")
            continue
        for new, old in zip(fresh["cells"], committed["cells"]):
            if _source(new) != _source(old):
                diff = "\n".join(list(difflib.unified_diff(_source(old).splitlines(), _source(new).splitlines(),
                                                           "committed", "built", lineterm=""))[:12])
                stale.append(f"{fresh_path.name}, cell {new.get('id')}: source differs\n{diff}")
            elif new != old:
                stale.append(f"{fresh_path.name}, cell {new.get('id')}: type, metadata or outputs differ")
        if {k: v for k, v in fresh.items() if k != "cells"} != {k: v for k, v in committed.items() if k != "cells"}:
            stale.append(f"{fresh_path.name}: notebook metadata or format differ")
    assert not stale, f"committed notebooks differ from the builders' ({REGENERATE}):\n" + "\n".join(stale)


def test_badges_and_install_cells_point_at_the_repository():
    repository = _repository()
    org_repo = repository[len("https://github.com/"):]
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = _read(path)
        first = _source(notebook["cells"][0])
        badge = f"https://colab.research.google.com/github/{org_repo}/blob/main/notebooks/{path.name}"
        assert f"]({badge})" in first, f"{path.name}: its Colab badge should link {badge}"
        links = re.findall(r"https://colab\.research\.google\.com/github/[^)\s]+", first)
        assert links == [badge], f"{path.name}: Colab links {links}"
        assert f'"git+{repository}"' in _install_cell(notebook), f"{path.name}: install cell should use {repository}"


def test_install_cell_enables_colabs_widget_manager_only_on_colab():
    """ipywidgets 8 (the ablation panel, every tqdm.auto bar) renders on Colab through its custom widget manager."""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        lines = _install_cell(_read(path)).splitlines()
        guard = lines.index('if "google.colab" in sys.modules:')
        enable = lines.index("    output.enable_custom_widget_manager()")
        assert "    from google.colab import output" in lines[guard + 1:enable], path.name
        assert all(line.startswith("    ") for line in lines[guard + 1:]), f"{path.name}: all of it under the guard"


def test_install_cell_does_nothing_off_colab():
    source = _install_cell(_read(NOTEBOOKS / "00_setup.ipynb"))
    assert "google.colab" not in sys.modules
    exec(compile(source, "install cell", "exec"), {})  # would raise (no google.colab) if not guarded


def test_readme_links_point_at_the_repository():
    repository = _repository()
    org_repo = repository[len("https://github.com/"):]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"https://colab\.research\.google\.com/github/([^)\s]+)", readme)
    linked = set()
    for link in links:
        match = re.fullmatch(rf"{re.escape(org_repo)}/blob/main/notebooks/([\w.-]+)\.ipynb", link)
        assert match, f"README.md: Colab link {link!r} should open {org_repo}/blob/main/notebooks/<name>.ipynb"
        assert (NOTEBOOKS / f"{match.group(1)}.ipynb").exists(), f"README.md links a missing notebook: {link}"
        linked.add(match.group(1))
    assert linked == {p.stem for p in NOTEBOOKS.glob("*.ipynb")}, "README.md should link every notebook on Colab"
    for address in re.findall(r"(?:git\+|git clone )?https?://github\.com/[\w.-]+/[\w.-]+", readme):
        if address.startswith(("git+", "git clone ")):
            assert address.endswith(repository), f"README.md installs or clones {address}, not {repository}"
    for said in re.findall(r"repository lives at `github\.com/([\w.-]+/[\w.-]+)`", readme):
        assert said == org_repo, f"README.md says the repository lives at {said}, pyproject.toml says {org_repo}"


def test_installed_metadata_knows_the_repository():
    """The package knows its address through its metadata (``pip show -v course_lib``), read from pyproject.toml."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("course_lib").get_all("Project-URL") or []
    except PackageNotFoundError:
        pytest.skip("course_lib is not installed")
    if not urls:
        pytest.skip("the installed metadata predates [project.urls]; `pip install -e .` refreshes it")
    assert f"Repository, {_repository()}" in urls, f"installed metadata says {urls}; `pip install -e .` refreshes it"
