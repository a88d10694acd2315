"""The layout's promises: one namespace, and imports that flow one way (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOMS = {
    "sfbsim.agents": REPO / "agents",
    "sfbsim.model": REPO / "model",
    "sfbsim.experiments": REPO / "experiments",
    "sfbsim.viz": REPO / "viz",
    "sfbsim.cli": REPO / "sfbsim" / "cli",
    "sfbsim.api": REPO / "sfbsim" / "api.py",
}
FORBIDDEN = {
    "sfbsim.agents": ("sfbsim.experiments", "sfbsim.viz", "sfbsim.cli", "sfbsim.api"),
    "sfbsim.model": ("sfbsim.experiments", "sfbsim.viz", "sfbsim.cli", "sfbsim.api"),
    "sfbsim.experiments": ("sfbsim.viz", "sfbsim.cli", "sfbsim.api"),
    "sfbsim.viz": ("sfbsim.cli", "sfbsim.api"),
    "sfbsim.cli": ("sfbsim.api",),
    "sfbsim.api": ("sfbsim.viz", "sfbsim.cli"),
}
"""What each room may not import: data flows data → model → outputs → experiments → CLI,
app and scripting API; the actors (agents) and the model never reach up. The scripting API
(sfbsim.api) and the CLI are two doors onto the same engine: neither goes through the other,
and the API needs no app."""


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (top level, functions, TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_imports_flow_one_way(room):
    bad = []
    root = ROOMS[room]
    for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
        for module in imported_modules(path):
            if module.split(".")[0] in ("agents", "model", "experiments", "viz"):
                bad.append(f"{path.relative_to(REPO)} imports {module} (use sfbsim.{module})")
            for forbidden in FORBIDDEN[room]:
                if module == forbidden or module.startswith(forbidden + "."):
                    bad.append(f"{path.relative_to(REPO)} imports {module}")
    assert bad == []


def test_only_the_sfbsim_namespace_is_installed(tmp_path):
    """From a folder outside the checkout the generic names do not exist; sfbsim's do."""
    code = (
        "import importlib.util as u\n"
        "print([n for n in ('agents', 'model', 'experiments', 'viz') if u.find_spec(n)])\n"
        "import sfbsim.agents, sfbsim.model.model, sfbsim.experiments.compare, sfbsim.cli\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_package_root_loads_the_scripting_api_only_when_asked():
    """``import sfbsim`` (and so ``sfbsim --help``) imports no API, pandas or pydantic; the
    package root imports sfbsim.api only inside its module-level ``__getattr__``."""
    tree = ast.parse((REPO / "sfbsim" / "__init__.py").read_text(encoding="utf-8"))
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            top_level.add(node.module)
        elif isinstance(node, ast.Import):
            top_level.update(alias.name for alias in node.names)
    assert top_level <= {"__future__", "typing"}, top_level
    code = "import sys, sfbsim.cli\nprint(sorted({'sfbsim.api', 'pandas'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_every_python_file_is_in_a_room_or_a_known_folder():
    """Code lives in the design's rooms (plus tests, benchmarks, tools): nothing stray."""
    allowed = {"agents", "model", "experiments", "viz", "sfbsim", "tests", "benchmarks", "tools"}
    allowed.add("examples")  # runnable scripts of the scripting API (tests/test_examples.py)
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=False
    )
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    stray = [p for p in tracked.stdout.split() if p.split("/")[0] not in allowed]
    assert stray == []
