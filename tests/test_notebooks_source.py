"""The notebooks are their own source (``notebooks/*.ipynb``, edited in Jupyter), kept tidy by
``tools/notebooks.py``: committed without outputs, every Colab badge and install cell pointing at the repository's
one home (``Repository`` under ``[project.urls]`` in pyproject.toml), one install cell for all. These tests fail
when a notebook is committed untidy (the fix: ``python tools/notebooks.py``), and check that the tool itself
finds and fixes what it should.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIX = "python tools/notebooks.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("course_notebooks_tool", ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    """The code cell right after the title: the only one that pip-installs."""
    installing = [i for i, c in enumerate(notebook["cells"]) if '"pip", "install"' in _source(c)]
    assert installing == [1] and notebook["cells"][1]["cell_type"] == "code", f"install cells at {installing}"
    return _source(notebook["cells"][1])


def test_the_twelve_notebooks_are_there():
    names = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert len(names) == 12 and [n[:2] for n in names] == [f"{i:02d}" for i in range(12)], names


def test_committed_notebooks_are_tidy(tool):
    repository = tool.repository_url()
    untidy = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        raw = path.read_text(encoding="utf-8")
        notebook = json.loads(raw)
        changes = tool.tidy(notebook, path.stem, repository)
        if changes:
            untidy.append(f"{path.name}: " + "; ".join(changes))
        elif raw != tool.render(notebook):
            untidy.append(f"{path.name}: not in nbformat's layout")
    assert not untidy, f"run `{FIX}` and commit:\n" + "\n".join(untidy)


def test_committed_notebooks_have_no_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in _read(path)["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, (
                    f"{path.name}, cell {cell.get('id')}: commit notebooks without outputs ({FIX})")


def _untidy_copy(tmp_path: Path) -> tuple[Path, dict]:
    """notebooks/02_data.ipynb as a student's Jupyter leaves it: outputs, counts, a fork's address."""
    notebook = _read(NOTEBOOKS / "02_data.ipynb")
    clean = copy.deepcopy(notebook)
    notebook["cells"][0]["source"] = _source(notebook["cells"][0]).replace(
        _repository()[len("https://github.com/"):], "someone/a-fork")
    notebook["cells"][1]["source"] = _source(notebook["cells"][1]).replace(_repository(), "https://github.com/x/y")
    code = next(c for c in notebook["cells"][2:] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hello\n"}]
    code["execution_count"] = 7
    code["metadata"]["execution"] = {"iopub.execute_input": "2026-11-30T00:00:00Z"}
    notebook["metadata"]["widgets"] = {"state": {}}
    path = tmp_path / "02_data.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path, clean


def test_tool_finds_and_fixes_an_untidy_notebook(tool, tmp_path, capsys):
    path, clean = _untidy_copy(tmp_path)
    assert tool.main(["--check", str(path)]) == 1
    report = capsys.readouterr().out
    for expected in ("cleared 1 output", "execution count", "['execution']", "Colab badge", "install cell",
                     "notebook metadata", "would change"):
        assert expected in report, (expected, report)
    assert json.loads(path.read_text(encoding="utf-8"))["cells"][2:] != clean["cells"][2:]   # --check wrote nothing
    assert tool.main([str(path)]) == 0
    fixed = _read(path)
    assert fixed == clean, "the tool should give back exactly the committed notebook"
    assert tool.main(["--check", str(path)]) == 0                                       # and it is idempotent


def test_tool_refuses_a_notebook_without_badge(tool, tmp_path):
    notebook = _read(NOTEBOOKS / "02_data.ipynb")
    notebook["cells"][0]["source"] = "# a title without a badge"
    with pytest.raises(ValueError, match="02_data.ipynb: the title cell has no Colab badge"):
        tool.tidy(notebook, "02_data", _repository())


def test_one_install_cell_for_every_notebook(tool):
    wanted = tool.install_cell(_repository())
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        assert _install_cell(_read(path)) == wanted, f"{path.name}: its install cell differs ({FIX})"


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
