"""The `vertexmeter` command: `run()` is the entry point, `main` the click group (cli/app.py).

`run()` answers the plain form of the command people type most — `vertexmeter count -m MODEL TEXT...`
(quick.py) — without importing click, which alone is a third of that command's start; every other
command line, and every refusal, goes through the click group unchanged.
"""

from __future__ import annotations

from vertexmeter.lazy import lazy_attributes

TYPE_CHECKING = False  # not typing's: the quick path imports nothing it does not use
if TYPE_CHECKING:
    from vertexmeter.cli.app import main

__all__ = ["main", "run"]


def run() -> None:
    """The console script: the quick path when the command line is the plain count form, else click."""
    import sys

    from vertexmeter.cli.quick import answer

    if answer(sys.argv[1:]):
        return
    from vertexmeter.cli.app import main

    main(prog_name="vertexmeter")


__getattr__ = lazy_attributes(__name__, {"main": "vertexmeter.cli.app"})
