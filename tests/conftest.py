"""Test-suite wide settings: a private cache and outputs root, few threads per worker."""

import os

import pytest
import torch

if not torch.cuda.is_available():
    # Triton fixes "interpreted or compiled" when a kernel is first defined, and lightning imports
    # triton early: set the interpreter before any test module is collected.
    os.environ.setdefault("TRITON_INTERPRET", "1")


@pytest.fixture(autouse=True, scope="session")
def _isolated_outputs(tmp_path_factory):
    """Runs and interactive outputs of tests go to a temporary folder, never to outputs/."""
    os.environ.setdefault("ATELIER_OUTPUTS", str(tmp_path_factory.mktemp("outputs")))
    yield


def pytest_configure(config):
    # Two xdist workers share two cores: one intra-op thread each avoids oversubscription.
    torch.set_num_threads(1)
