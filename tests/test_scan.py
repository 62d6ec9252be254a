"""``patchguard scan`` and the flake8 plugin (issue 14 §1, §2)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from patchguard.scan import PATTERNS, report, scan_source
from tests.helpers import clean_env, run_isolated

# The CLI and flake8 run in fresh interpreters; the matrix also checks
# the walker against each Python's own ast.
pytestmark = pytest.mark.isolated

# One snippet per pattern; the expected use is on the snippet's last line
# (not counting a decorated function's ``def`` line).
PATTERN_CASES = [
    ("import", "import eventlet"),
    ("import", "from eventlet import greenthread"),
    ("monkey-patch", "import eventlet\neventlet.monkey_patch()"),
    ("monkey-patch", "from eventlet import patcher\npatcher.monkey_patch()"),
    ("spawn", "import eventlet\neventlet.spawn(f)"),
    ("spawn", "import eventlet\neventlet.spawn_n(f)"),
    ("spawn", "import eventlet\neventlet.spawn_after(1, f)"),
    ("spawn", "from eventlet import greenthread\ngreenthread.GreenThread"),
    ("green-pool", "import eventlet\neventlet.GreenPool(5)"),
    ("green-pool", "import eventlet\neventlet.GreenPile()"),
    ("timeout", "import eventlet\nwith eventlet.Timeout(1): pass"),
    ("timeout", "import eventlet\neventlet.with_timeout(1, f)"),
    ("sleep", "import eventlet\neventlet.sleep(1)"),
    ("sleep", "from eventlet import greenthread\ngreenthread.sleep(0)"),
    ("yield-sleep", "import time\ntime.sleep(0)"),
    ("yield-sleep", "import time\ntime.sleep(0.0)"),
    ("wsgi", "from eventlet import wsgi"),
    ("wsgi", "import eventlet.wsgi\neventlet.wsgi.server(s, app)"),
    ("green-modules", "from eventlet.green import subprocess"),
    ("green-modules", "import eventlet\neventlet.green.socket.socket()"),
    ("tpool", "from eventlet import tpool"),
    ("tpool", "import eventlet\neventlet.tpool.execute(f)"),
    ("green-sync", "from eventlet import semaphore"),
    ("green-sync", "import eventlet\neventlet.event.Event()"),
    ("green-sync", "import eventlet\neventlet.queue.LightQueue()"),
    ("backdoor", "from eventlet import backdoor"),
    ("backdoor", "from oslo_service import eventlet_backdoor"),
    ("eventletutils", "from oslo_utils import eventletutils"),
    ("green-executor", "import futurist\nfuturist.GreenThreadPoolExecutor()"),
    ("green-executor", "from futurist import GreenFuture"),
    ("oslo-service-eventlet", "from oslo_service import wsgi"),
    ("oslo-service-eventlet", "from oslo_service import sslutils"),
    (
        "oslo-service-eventlet",
        "from oslo_service import backend\n"
        "backend.init_backend(backend.BackendType.EVENTLET)",
    ),
    (
        "mock-eventlet",
        "from unittest import mock\nmock.patch('eventlet.spawn')",
    ),
    (
        "mock-eventlet",
        "import mock\n@mock.patch('eventlet.sleep')\ndef t(): 0",
    ),
    (
        "mock-eventlet",
        "import fixtures\nfixtures.MockPatch('oslo_utils.eventletutils.x')",
    ),
]


def _last_line(source: str) -> int:
    lines = source.splitlines()
    return len(lines) - lines[-1].startswith("def ")


@pytest.mark.parametrize(("pattern", "source"), PATTERN_CASES)
def test_each_pattern_is_classified(pattern: str, source: str) -> None:
    """Every pattern the issue lists is found, on its line, with its id."""
    uses, error = scan_source(source, "m.py")
    assert error is None
    last = [u for u in uses if u.line == _last_line(source)]
    assert [u.pattern for u in last] == [pattern], uses


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # The import is the way in; the call is the use: counted once.
        ("from eventlet import spawn\nspawn(f)", [("spawn", 2)]),
        (
            "from eventlet import spawn as s\ns(f)\ns(g)",
            [("spawn", 2), ("spawn", 3)],
        ),
        (
            "from eventlet.green import socket\nsocket.socket()",
            [("green-modules", 2)],
        ),
        (
            "import eventlet.green.socket as gs\ngs.socket()",
            [("green-modules", 2)],
        ),
        # A module import is its own finding (drop it at the end).
        ("import eventlet\neventlet.spawn(f)", [("import", 1), ("spawn", 2)]),
        (
            "from eventlet import greenthread\ngreenthread.spawn(f)",
            [("import", 1), ("spawn", 2)],
        ),
        # An unused binding still counts, on the import line.
        ("from eventlet import spawn", [("spawn", 1)]),
        # A probe stays a probe, and its uses stay uses.
        (
            "try:\n    from eventlet import spawn\nexcept ImportError:\n"
            "    spawn = None\nspawn(f)",
            [("spawn", 2), ("spawn", 5)],
        ),
    ],
)
def test_an_import_and_its_use_count_once(
    source: str, expected: list[tuple[str, int]]
) -> None:
    """`from eventlet import spawn; spawn(f)` is one spawn, as
    `eventlet.spawn(f)` is: a name's import is not a second use of the
    pattern its use already counts."""
    uses, error = scan_source(source, "m.py")
    assert error is None
    assert [(u.pattern, u.line) for u in uses] == expected, uses


def test_every_pattern_has_a_case_code_and_recipe() -> None:
    """The table is complete: each pattern is tested and documented."""
    assert {p for p, _ in PATTERN_CASES} == set(PATTERNS)
    codes = [p.code for p in PATTERNS.values()]
    assert len(set(codes)) == len(codes)
    assert all(p.recipe and p.title for p in PATTERNS.values())
    doc = (
        Path(__file__).parent.parent / "doc/source/migration.rst"
    ).read_text()
    for p in PATTERNS.values():
        assert p.code in doc, p.id
        assert f"``{p.id}``" in doc, p.id


@pytest.mark.parametrize(
    ("source", "pattern", "name"),
    [
        ("import eventlet as ev\nev.spawn(f)", "spawn", "eventlet.spawn"),
        (
            "from eventlet import greenthread as gt\ngt.spawn_after(1, f)",
            "spawn",
            "eventlet.greenthread.spawn_after",
        ),
        (
            "from eventlet import greenthread as gt\ngt.sleep(0)",
            "sleep",
            "eventlet.greenthread.sleep",
        ),
        (
            "import eventlet.green.socket as gs\ngs.socket()",
            "green-modules",
            "eventlet.green.socket.socket",
        ),
        (
            "from eventlet import GreenPool as Pool\nPool(3)",
            "green-pool",
            "eventlet.GreenPool",
        ),
        (
            "from futurist import GreenThreadPoolExecutor as E\nE()",
            "green-executor",
            "futurist.GreenThreadPoolExecutor",
        ),
        ("import time as t\nt.sleep(0)", "yield-sleep", "time.sleep"),
        ("from time import sleep as nap\nnap(0)", "yield-sleep", "time.sleep"),
        (
            "import unittest.mock as um\num.patch('eventlet.tpool.execute')",
            "mock-eventlet",
            "eventlet.tpool.execute",
        ),
        (
            "from unittest import mock\nfrom eventlet import greenthread as g"
            "\nmock.patch.object(g, 'spawn')",
            "mock-eventlet",
            "eventlet.greenthread.spawn",
        ),
        (
            "def f():\n    import eventlet as e2\n    e2.monkey_patch()",
            "monkey-patch",
            "eventlet.monkey_patch",
        ),
    ],
)
def test_aliases_resolve(source: str, pattern: str, name: str) -> None:
    """Aliased imports resolve to the real name and pattern."""
    uses, _ = scan_source(source, "m.py")
    last = [u for u in uses if u.line == _last_line(source)]
    assert [(u.pattern, u.name) for u in last] == [(pattern, name)]


@pytest.mark.parametrize(
    "source",
    [
        "import time\ntime.sleep(1)",
        "import time\ntime.sleep(delay)",
        "import time\ntime.sleep(False)",
        "sleep(0)",  # not time.sleep: unknown origin
        "self.pool.spawn(f)",
        "spawn = lambda f: f\nspawn(f)",
        "from unittest import mock\nmock.patch('threading.Event')",
        "import eventlet_other\neventlet_other.spawn(f)",
        "from . import eventlet\neventlet.spawn(f)",
        "x = 'eventlet.spawn'",
        "import oslo_service\nfrom oslo_service import loopingcall",
        "from futurist import ThreadPoolExecutor",
    ],
)
def test_non_uses_are_not_reported(source: str) -> None:
    """Look-alikes that are not eventlet uses are not reported."""
    uses, error = scan_source(source, "m.py")
    assert error is None
    assert uses == []


@pytest.mark.parametrize(
    ("source", "guarded"),
    [
        ("try:\n    import eventlet\nexcept ImportError:\n    pass\n", True),
        (
            "try:\n    from eventlet import greenpool\n"
            "except (OSError, ModuleNotFoundError):\n    pass\n",
            True,
        ),
        ("import eventlet\n", False),
        ("try:\n    import eventlet\nexcept Exception:\n    pass\n", False),
        ("try:\n    pass\nexcept ImportError:\n    import eventlet\n", False),
    ],
)
def test_guarded_probe_import_is_marked(source: str, guarded: bool) -> None:
    """An eventlet import inside try/except ImportError is a guarded
    probe; any other import is not."""
    uses, error = scan_source(source, "x.py")
    assert error is None
    assert [u.guarded for u in uses] == [guarded]


def test_use_inside_a_guarded_try_is_not_a_probe() -> None:
    """Only the import in a guarded try is a probe: a call through it in
    the same try is a real use."""
    source = (
        "try:\n    import eventlet\n    eventlet.spawn(f)\n"
        "except ImportError:\n    pass\n"
    )
    uses, _ = scan_source(source, "x.py")
    assert [(u.name, u.guarded) for u in uses] == [
        ("eventlet", True),
        ("eventlet.spawn", False),
    ]


def test_syntax_error_is_reported_and_skipped(tmp_path: Path) -> None:
    """A file that does not parse is reported with its line, never a crash,
    and the other files are still scanned."""
    (tmp_path / "bad.py").write_text("import eventlet\ndef broken(:\n")
    (tmp_path / "nul.py").write_bytes(b"import eventlet\x00\n")
    (tmp_path / "good.py").write_text("import eventlet\neventlet.sleep()\n")
    res = run_isolated("-m patchguard", "scan", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "unparsable, skipped (2):" in res.stdout
    assert f"{tmp_path / 'bad.py'}:2:" in res.stdout
    assert "PGE106 sleep" in res.stdout
    doc = json.loads(
        run_isolated("-m patchguard", "scan", "--json", str(tmp_path)).stdout
    )
    assert {e["path"] for e in doc["unparsable"]} == {
        str(tmp_path / "bad.py"),
        str(tmp_path / "nul.py"),
    }
    assert doc["counts"] == {"import": 1, "sleep": 1}


def _tree(root: Path) -> Path:
    pkg = root / "svc"
    (pkg / "tests").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "tests" / "__init__.py").write_text("")
    (pkg / "server.py").write_text(
        textwrap.dedent(
            """\
            import eventlet
            from eventlet import wsgi
            eventlet.monkey_patch()
            pool = eventlet.GreenPool()
            pool2 = eventlet.GreenPool()
            """
        )
    )
    (pkg / "tests" / "test_server.py").write_text(
        "from unittest import mock\n@mock.patch('eventlet.spawn')\n"
        "def test(m): pass\n"
    )
    return pkg


def test_text_output_groups_by_pattern_and_module(tmp_path: Path) -> None:
    """Text output: per pattern (code, title, count, fix) then per module."""
    pkg = _tree(tmp_path)
    res = run_isolated("-m patchguard", "scan", str(pkg))
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out.startswith("patchguard scan: 6 eventlet use(s) in 2 of 4 file")
    block = out.split("PGE104 green-pool:")[1].split("\n\n")[0]
    assert "(2)" in block.splitlines()[0]
    assert "fix: concurrent.futures.ThreadPoolExecutor" in block
    assert "    2  svc.server" in block
    assert "    1  svc.tests.test_server" in out


def test_json_document_and_exclude(tmp_path: Path) -> None:
    """--json prints one document (schema, counts, uses with module and
    code); --exclude drops matching files and directories."""
    pkg = _tree(tmp_path)
    res = run_isolated("-m patchguard", "scan", "--json", str(pkg))
    doc = json.loads(res.stdout)
    assert doc["schema"] == "patchguard-scan/1"
    assert doc["total"] == 6
    assert doc["files"] == 4
    assert doc["counts"] == {
        "import": 1,
        "monkey-patch": 1,
        "green-pool": 2,
        "wsgi": 1,
        "mock-eventlet": 1,
    }
    use = next(u for u in doc["uses"] if u["pattern"] == "wsgi")
    assert use["code"] == "PGE108"
    assert use["module"] == "svc.server"
    assert use["line"] == 2
    assert use["text"] == "from eventlet import wsgi"
    assert set(doc["patterns"]) == set(PATTERNS)
    for glob in ("tests", "*/tests/*", "test_*.py"):
        res = run_isolated(
            "-m patchguard", "scan", "--json", "--exclude", glob, str(pkg)
        )
        doc = json.loads(res.stdout)
        assert "mock-eventlet" not in doc["counts"], glob
        assert doc["counts"]["green-pool"] == 2


def test_baseline_exit_codes(tmp_path: Path) -> None:
    """--baseline: 0 when unchanged or only removed, 1 when a use was added
    (listing it), moved lines count as neither; bad baselines exit 2."""
    pkg = _tree(tmp_path)
    base = tmp_path / "base.json"
    base.write_text(
        run_isolated("-m patchguard", "scan", "--json", str(pkg)).stdout
    )
    res = run_isolated(
        "-m patchguard", "scan", "--baseline", str(base), str(pkg)
    )
    assert res.returncode == 0, res.stdout
    assert "0 added, 0 removed" in res.stdout

    # The same tree spelled another way (relative, from inside it): the
    # ratchet compares modules, not paths as typed.
    for cwd, spelled in ((pkg.parent, pkg.name), (pkg, ".")):
        res = run_isolated(
            "-m patchguard",
            "scan",
            "--baseline",
            str(base),
            spelled,
            cwd=cwd,
        )
        assert res.returncode == 0, (spelled, res.stdout)
        assert "0 added, 0 removed" in res.stdout

    server = pkg / "server.py"
    server.write_text("# moved down\n" + server.read_text())
    res = run_isolated(
        "-m patchguard", "scan", "--baseline", str(base), str(pkg)
    )
    assert res.returncode == 0
    assert "0 added, 0 removed" in res.stdout

    server.write_text(server.read_text().replace("pool2 = ", "# "))
    res = run_isolated(
        "-m patchguard", "scan", "--baseline", str(base), str(pkg)
    )
    assert res.returncode == 0, res.stdout
    assert "0 added, 1 removed" in res.stdout

    server.write_text(server.read_text() + "eventlet.spawn(f)\n")
    res = run_isolated(
        "-m patchguard", "scan", "--json", "--baseline", str(base), str(pkg)
    )
    assert res.returncode == 1
    json.loads(res.stdout)  # stdout stays one document
    assert "1 added, 1 removed" in res.stderr
    assert "PGE103 spawn: eventlet.spawn(f)" in res.stderr

    (tmp_path / "junk.json").write_text("{}")
    for bad in ("junk.json", "missing.json"):
        res = run_isolated(
            "-m patchguard",
            "scan",
            "--baseline",
            str(tmp_path / bad),
            str(pkg),
        )
        assert res.returncode == 2
        assert bad in res.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "at least one PATH"),
        (("/nonexistent/dir",), "no such file or directory: /nonexistent"),
        (("--bogus", "."), "unrecognized arguments: --bogus"),
        (("--baseline",), "expected one argument"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    """Bad command lines exit 2 with a message naming the problem."""
    res = run_isolated("-m patchguard", "scan", *args)
    assert res.returncode == 2
    assert message in res.stderr


def test_scan_files_api(tmp_path: Path) -> None:
    """scan_files takes an explicit module list (the join point for a
    runtime check) and returns records plus errors."""
    from patchguard.scan import scan_files

    a = tmp_path / "a.py"
    a.write_text("from eventlet import tpool\n")
    b = tmp_path / "b.py"
    b.write_text("import os\n")
    uses, errors, parsed = scan_files([str(a), str(b), str(tmp_path / "c")])
    assert [(u.pattern, u.path, u.line) for u in uses] == [
        ("tpool", str(a), 1)
    ]
    assert parsed == 1
    assert [e.path for e in errors] == [str(tmp_path / "c")]
    assert report.module_name(str(a)) == "a"


# --- flake8 plugin -----------------------------------------------------


def _flake8(
    tmp_path: Path, *args: str, isolated: bool = True
) -> subprocess.CompletedProcess[str]:
    if shutil.which("flake8", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("flake8 is not installed (extra 'lint')")
    flags = ["--isolated"] if isolated else []
    return subprocess.run(
        [sys.executable, "-m", "flake8", *flags, *args, "m.py"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


FLAKE8_SOURCE = """\
import eventlet
eventlet.spawn(print)
pool = eventlet.GreenPool()
eventlet.sleep(0)  # noqa: PGE106
"""


def test_flake8_plugin_off_by_default(tmp_path: Path) -> None:
    """Installed patchguard adds no codes to a project's default flake8
    run, nor to one selecting other codes (the codes are opt-in)."""
    (tmp_path / "m.py").write_text(FLAKE8_SOURCE)
    for args in ((), ("--select=E,W,F,C,H",)):
        res = _flake8(tmp_path, *args)
        assert res.returncode == 0, res.stdout
        assert "PGE" not in res.stdout, res.stdout


def test_flake8_plugin_all_codes_and_noqa(tmp_path: Path) -> None:
    """--select=PGE reports every use with its code, line and the fix;
    noqa silences one."""
    (tmp_path / "m.py").write_text(FLAKE8_SOURCE)
    res = _flake8(tmp_path, "--select=PGE")
    assert res.returncode == 1, res.stderr
    lines = res.stdout.splitlines()
    assert [line.split(" ", 2)[1] for line in lines] == [
        "PGE101",
        "PGE103",
        "PGE104",
    ]
    assert lines[1].startswith("m.py:2:1: PGE103 greenthreads")
    assert "fix: threading.Thread" in lines[1]


def test_flake8_plugin_per_code_selection(tmp_path: Path) -> None:
    """--select=PGE104 reports only that code; extend-select (command line
    or a tox.ini [flake8] section) turns codes on beside the defaults."""
    (tmp_path / "m.py").write_text(FLAKE8_SOURCE + "x=1\n")

    def codes(*args: str, isolated: bool = True) -> list[str]:
        res = _flake8(tmp_path, *args, isolated=isolated)
        return [line.split(" ")[1] for line in res.stdout.splitlines()]

    assert codes("--select=PGE104") == ["PGE104"]
    assert codes("--select=PGE103,PGE104") == ["PGE103", "PGE104"]
    assert codes("--extend-select=PGE103") == ["PGE103", "E225"]
    (tmp_path / "tox.ini").write_text(
        "[flake8]\nextend-select = PGE\nextend-ignore = PGE101\n"
    )
    assert codes(isolated=False) == ["PGE103", "PGE104", "E225"]
