"""Builds the counting core's C extension; everything else is in pyproject.toml.

`pip install .` / `pip install -e .` compile it with the system's C compiler. Where no compiler is
found the install still succeeds and vertexmeter runs the same algorithm in pure Python
(vertexmeter/tokenizing/core/pure.py), which VERTEXMETER_REQUIRE_NATIVE=1 turns into an error.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 (any compiler failure)
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._skip(exc)

    def _skip(self, exc: Exception) -> None:
        if os.environ.get("VERTEXMETER_REQUIRE_NATIVE", "") not in ("", "0"):
            raise exc
        print(f"warning: vertexmeter's C counting core was not built ({exc}); the pure-Python core is used")


setup(
    ext_modules=[
        Extension(
            "vertexmeter.tokenizing.core._native",
            sources=["vertexmeter/tokenizing/core/_native.c"],
            extra_compile_args=["-O2"],
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
