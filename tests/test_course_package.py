"""The two parts of the tree: the library (course_lib) and the course's notebook support (course_lib.course).

The support is organised by topic, each name exported once; the reference solutions stay out of the notebooks;
the library never imports the support."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOPICS = {
    "course_lib.course.figures": ("images", "spectra", "diagrams", "internals", "training", "tables"),
    "course_lib.course.exercises": ("data", "attention", "mpfnet", "losses", "gan", "evaluation"),
}


@pytest.mark.parametrize("package", sorted(TOPICS))
def test_each_topic_module_exports_its_names_once_through_the_package(package):
    exported = importlib.import_module(package)
    seen: dict[str, str] = {}
    for topic in TOPICS[package]:
        module = importlib.import_module(f"{package}.{topic}")
        for name in module.__all__:
            assert name not in seen, f"{name} is in both {seen.get(name)} and {topic}"
            seen[name] = topic
            assert getattr(exported, name) is getattr(module, name), name
    assert sorted(seen) == sorted(exported.__all__)


def test_every_check_has_a_reference_solution():
    from course_lib.course import exercises, solutions

    checked = {name[len("check_"):] for name in exercises.__all__ if name.startswith("check_")}
    # check_coordinate_gates compares with the module's own gates; the weights' solution is a constant
    assert checked - {"coordinate_gates", "luminance_weights"} <= set(solutions.__all__)
    assert "LUMINANCE_WEIGHTS" in solutions.__all__


def _code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_no_notebook_runs_the_reference_solutions(path):
    """A student notebook never imports the solutions (instructors: tests/test_exercises*.py check them)."""
    for source in _code_cells(path):
        assert not re.search(r"\bsolutions\b", source), f"{path.name}: a code cell uses the solutions:\n{source}"


def test_the_library_never_imports_the_course_support():
    code = ("import sys, course_lib.cli, course_lib.data, course_lib.losses, course_lib.metrics, course_lib.models, "
            "course_lib.pretrained, course_lib.train; "
            "print(sorted(m for m in sys.modules if m.startswith('course_lib.course')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout
