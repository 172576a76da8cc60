"""Attention masks: named patterns and boolean tensors, turned into SDPA arguments.

A mask is True where a query may attend to a key. "causal" runs SDPA's is_causal fast path and
"bidirectional" passes no mask at all; any other pattern (semi-autoregressive blocks, padding,
prefix-LM) is a boolean tensor that SDPA broadcasts over batch and heads.
"""

from __future__ import annotations

import torch

NAMED_MASKS = ("causal", "bidirectional")


def block_mask(seq_len: int, block: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Bool[T, T] for semi-autoregressive decoding: full attention inside a block of `block`
    positions, causal across blocks (query i sees key j iff block(j) <= block(i))."""
    if block < 1:
        raise ValueError(f"block must be a positive int, got {block}")
    block_id = torch.arange(seq_len, device=device) // block  # [T]
    return block_id[None, :] <= block_id[:, None]


def sdpa_mask(mask: str | torch.Tensor, seq_len: int) -> tuple[torch.Tensor | None, bool]:
    """(attn_mask, is_causal) for F.scaled_dot_product_attention.

    mask: "causal", "bidirectional", or a Bool tensor [T, T] or [B, 1, T, T] (also any
    [B or 1, 1, 1 or T, T] that broadcasts, e.g. a key-padding mask [B, 1, 1, T]).
    """
    if isinstance(mask, str):
        if mask not in NAMED_MASKS:
            raise ValueError(f"mask={mask!r}: valid names are {NAMED_MASKS} (or a Bool tensor)")
        return None, mask == "causal"
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"mask must be one of {NAMED_MASKS} or a Bool tensor, got {type(mask).__name__}"
                        + (f" of dtype {mask.dtype}" if isinstance(mask, torch.Tensor) else ""))
    if mask.ndim not in (2, 4) or mask.shape[-1] != seq_len or mask.shape[-2] not in (1, seq_len):
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not fit T={seq_len}: "
                         f"expected [T, T], [B, 1, T, T] or [B, 1, 1, T]")
    return mask, False
