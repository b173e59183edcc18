"""The README's two commands are the newcomer's contract: CI must run exactly the README's test command."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)
    return [b.strip() for b in blocks]


def test_ci_runs_the_readme_test_command_verbatim():
    commands = _readme_commands()
    test_commands = [c for c in commands if "pytest" in c]
    assert len(test_commands) == 1, f"README.md should give exactly one test command, found {test_commands}"
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_commands[0] in ci_lines, ".ci/run must run the README's test command verbatim"


def test_readme_main_command_runs_the_demo():
    commands = _readme_commands()
    assert any(c.endswith("python -m course_lib demo") for c in commands)
