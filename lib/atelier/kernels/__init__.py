"""GPU kernels, each with a pure-torch reference and one dispatch function.

Dispatch picks the fast path (Triton or FlexAttention) for CUDA tensors and the reference
elsewhere. Nothing here imports triton until a fast path runs.
"""

from atelier.kernels.attention import attention_velocity
from atelier.kernels.linear_cross_entropy import linear_cross_entropy

__all__ = ["attention_velocity", "linear_cross_entropy"]
