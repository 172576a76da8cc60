"""Kernel tests run the Triton kernels on CUDA when there is a GPU, else under the Triton
interpreter on CPU tensors. Triton decides interpreter or compiler when a function is decorated
(its own language library included), so TRITON_INTERPRET is set here, before the kernel modules
are imported (they are imported lazily), and the fixture checks that triton was not imported
earlier in this process without it."""

import os
import sys

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")


@pytest.fixture
def device() -> str:
    """Where the fast paths run: the GPU if any, else the CPU under the Triton interpreter."""
    if torch.cuda.is_available():
        return "cuda"
    if "triton.language" in sys.modules:
        from triton.runtime.interpreter import InterpretedFunction

        if not isinstance(sys.modules["triton.language"].zeros, InterpretedFunction):
            pytest.skip("triton was imported before TRITON_INTERPRET=1 was set: set it at the top of tests/conftest.py")
    return "cpu"
