"""Fixtures of the training tests (the stand-in model lives in train_helpers.py)."""

import pytest
import torch
from train_helpers import TinyLM


@pytest.fixture
def tiny_lm():
    torch.manual_seed(0)
    return TinyLM()
