"""Every Python sample in doc/source and the README runs (issue 11 §5).

Each code block is found (``.. code-block:: LANG``, a bare ``::`` literal
block, or a fenced block in the README).  Python blocks (a ``python``
language, or a bare ``::`` block that parses as Python) run in a fresh
interpreter each, since samples patch, bootstrap or start threads.  An
rst comment starting ``.. sample setup`` right before a block supplies
hidden setup code for it (the placeholders a sample names but does not
define, like Sphinx doctest's ``testsetup``).  The installed distribution
name is checked against every install instruction.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_installed, run_isolated

DOCS = sorted((ROOT / "doc" / "source").glob("*.rst")) + [ROOT / "README.md"]
PYTHON = ("python", "py", "pycon3")
SETUP = ".. sample setup"


@dataclass
class Block:
    """One code block: where it is, its language and its text."""

    path: Path
    line: int
    language: str
    code: str
    setup: str = ""

    def id(self) -> str:
        """``file:line`` for test ids."""
        return f"{self.path.name}:{self.line}"


def _indented(lines: list[str], start: int) -> tuple[str, int]:
    i = start
    while i < len(lines) and not lines[i].strip():
        i += 1
    body = []
    while i < len(lines) and (not lines[i].strip() or lines[i][:1] == " "):
        body.append(lines[i])
        i += 1
    return textwrap.dedent("\n".join(body)).strip() + "\n", i


def _rst_blocks(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    blocks = []
    setup = ""
    i = 0
    while i < len(lines):
        text = lines[i]
        stripped = text.strip()
        if stripped.startswith(SETUP):
            setup, i = _indented(lines, i + 1)
            continue
        match = re.match(
            r"\.\. (?:code-block|code|sourcecode)::\s*(\S*)", stripped
        )
        if match:
            j = i + 1
            while j < len(lines) and lines[j].strip().startswith(":"):
                j += 1
            code, end = _indented(lines, j)
            blocks.append(
                Block(path, i + 1, match.group(1) or "python", code, setup)
            )
            setup, i = "", end
            continue
        if stripped.endswith("::") and not stripped.startswith(".. "):
            code, end = _indented(lines, i + 1)
            blocks.append(Block(path, i + 1, "", code, setup))
            setup, i = "", end
            continue
        i += 1
    return blocks


def _md_blocks(path: Path) -> list[Block]:
    blocks = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            language = lines[i][3:].strip()
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            blocks.append(
                Block(
                    path, i + 1, language, "\n".join(lines[i + 1 : j]) + "\n"
                )
            )
            i = j + 1
        else:
            i += 1
    return blocks


def _is_python(block: Block) -> bool:
    if block.language:
        return block.language in PYTHON
    try:
        tree = ast.parse(block.code)
    except SyntaxError:
        return False
    # Output and shell lines that happen to parse (a bare name, a list)
    # are not samples: a sample imports or calls something.
    return any(
        isinstance(node, (ast.Import, ast.ImportFrom, ast.Call))
        for node in ast.walk(tree)
    )


BLOCKS = [
    b
    for p in DOCS
    for b in (_md_blocks(p) if p.suffix == ".md" else _rst_blocks(p))
]
PYTHON_BLOCKS = [b for b in BLOCKS if _is_python(b)]


def test_samples_are_found() -> None:
    """The extractor sees the samples (a broken one would prove nothing)."""
    names = {b.path.name for b in PYTHON_BLOCKS}
    assert {"README.md", "threads.rst", "subproc.rst", "guide.rst"} <= names


@pytest.mark.isolated
@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=Block.id)
def test_python_sample_runs(block: Block, tmp_path: Path) -> None:
    """The sample runs to completion in a fresh interpreter."""
    script = tmp_path / "sample.py"
    script.write_text(block.setup + block.code)
    result = run_isolated(script, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, (
        f"{block.id()} failed:\n{block.code}\n{result.stderr[-3000:]}"
    )


@pytest.mark.isolated
def test_install_instructions_use_the_installed_name() -> None:
    """Every `pip install` of patchguard in the docs names the
    distribution that `pip install .` really installs."""
    result = run_installed(
        "python",
        "-c",
        "import importlib.metadata as m;"
        "print(sorted(set(m.packages_distributions()['patchguard'])))",
    )
    assert result.returncode == 0, result.stderr
    (name,) = ast.literal_eval(result.stdout.strip())
    assert name == "eventlet-patchguard"
    seen = 0
    for path in DOCS:
        for line in path.read_text().splitlines():
            if "pip install" not in line or " -e " in line:
                continue
            # ``'eventlet-patchguard[lint]'``: the name without quotes,
            # markup or extras.
            words = [
                w.strip("'\"`").split("[")[0]
                for w in line.split("pip install", 1)[1].split()
            ]
            if any("patchguard" in w for w in words):
                seen += 1
                assert name in words, f"{path.name}: {line.strip()}"
                assert "patchguard" not in words, (
                    f"{path.name}: {line.strip()}"
                )
    assert seen >= 3
