"""Fixtures: a throwaway checkout with the toy studies registered (see toystudy.py)."""

import pytest

import toystudy
from atelier import studies


@pytest.fixture(scope="module")
def toy_home(tmp_path_factory):
    """A checkout root holding the toy notebooks; $ATELIER_HOME points at it for the module."""
    root = toystudy.write_home(tmp_path_factory.mktemp("home"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATELIER_HOME", str(root))
        for name, study in toystudy.studies().items():
            mp.setitem(studies.STUDIES, name, study)
        yield root
