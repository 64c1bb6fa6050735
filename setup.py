"""Build the optional C accelerator day25._speedups; everything else is in pyproject.toml.

``optional=True``: without a C compiler or the Python headers the build warns and
the package installs as pure Python (day25.accelerator then reports "Python").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "day25._speedups",
            sources=["src/day25/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
