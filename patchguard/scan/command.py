"""``patchguard scan PATH... [--json] [--baseline FILE] [--exclude GLOB]``.

Exit status: 0 (also when uses are found: the scan is an inventory), 1
when ``--baseline`` is given and uses were added since it, 2 on usage
errors (no path, a path that does not exist, an unreadable baseline).
"""

from __future__ import annotations

import argparse
import json
import sys

from patchguard.scan import report as _report

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_OK, EXIT_ADDED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse would exit itself; the caller decides the status.
        raise ValueError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="patchguard scan",
        description="Classify the eventlet uses in Python source trees.",
        add_help=False,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--baseline", metavar="FILE")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB"
    )
    parser.add_argument("-h", "--help", action="store_true")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run ``patchguard scan``.

    :param argv: the arguments after ``scan``.
    :returns: the exit status.
    """
    parser = _parser()
    try:
        args = parser.parse_args(list(argv))
    except ValueError as exc:
        sys.stderr.write(f"patchguard scan: {exc}\n{parser.format_usage()}")
        return EXIT_USAGE
    if args.help:
        sys.stdout.write(parser.format_help())
        return EXIT_OK
    if not args.paths:
        sys.stderr.write(
            "patchguard scan: at least one PATH (file or directory) is "
            f"required\n{parser.format_usage()}"
        )
        return EXIT_USAGE
    baseline = None
    try:
        if args.baseline is not None:
            baseline = _report.load_baseline(args.baseline)
        result = _report.scan(args.paths, args.exclude)
    except FileNotFoundError as exc:
        missing = exc.filename or exc
        sys.stderr.write(
            f"patchguard scan: no such file or directory: {missing}\n"
        )
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"patchguard scan: {exc}\n")
        return EXIT_USAGE
    doc = result.to_dict()
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    else:
        sys.stdout.write(_report.render(result))
    if baseline is None:
        return EXIT_OK
    added, removed = _report.compare(baseline, doc)
    # With --json, stdout is the document alone: the comparison goes to
    # stderr so the output can still be saved as the next baseline.
    out = sys.stderr if args.json else sys.stdout
    out.write(
        f"baseline {args.baseline}: {len(added)} added, {len(removed)} "
        f"removed (was {baseline.get('total', len(baseline['uses']))}, now "
        f"{doc['total']})\n"
    )
    if added:
        out.write("added:\n" + "\n".join(_report.render_uses(added)) + "\n")
    if removed:
        out.write(
            "removed:\n" + "\n".join(_report.render_uses(removed)) + "\n"
        )
    return EXIT_ADDED if added else EXIT_OK
