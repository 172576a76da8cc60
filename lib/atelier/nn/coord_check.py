"""Coordinate check (Yang et al., Tensor Programs V): activation RMS per layer over a few
optimizer steps, across widths and depths.

Under a parameterisation that transfers (muP across width, CompleteP across width and depth),
each layer's RMS curve is the same for every model size; under SP it drifts with width.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import polars as pl
import torch

from atelier.nn.model import Transformer
from atelier.nn.parameterisation import param_groups


def _watched(model: Transformer) -> list[tuple[str, torch.nn.Module]]:
    """(layer name, module) pairs whose outputs are measured, from input to logits."""
    layers = [("embedding", model.tok_emb)]
    for i, block in enumerate(model.blocks):
        layers += [(f"block{i}.attention", block.attn), (f"block{i}.mlp", block.mlp), (f"block{i}", block)]
    return layers + [("logits", model.lm_head)]


def coord_check(make_model: Callable[[int, int], Transformer], objective: Callable, batch: dict,
                widths: Sequence[int], depths: Sequence[int], steps: int = 4, lr: float = 1e-2,
                weight_decay: float = 0.0, eps: float = 1e-8, betas: tuple[float, float] = (0.9, 0.95),
                seed: int = 0) -> pl.DataFrame:
    """RMS of every watched layer's output at each of `steps` AdamW steps on a fixed batch.

    make_model(width, depth) builds a model (with its parameterisation); objective(model, batch)
    returns the loss or (loss, metrics). The optimizer is AdamW over param_groups(model, lr, ...),
    so lr is the base LR that the parameterisation scales. Step 0 is the initialisation.
    Returns columns width, depth, layer, step, rms (residual-stream layers are a block's output,
    branch layers the attention / MLP output before the residual multiplier).
    """
    rows = []
    for width, depth in itertools.product(widths, depths):
        torch.manual_seed(seed)
        model = make_model(width, depth)
        optimizer = torch.optim.AdamW(param_groups(model, lr, weight_decay, eps, betas))
        step = 0

        def record(name):
            def hook(module, inputs, output):
                rms = output.detach().float().pow(2).mean().sqrt().item()
                rows.append({"width": width, "depth": depth, "layer": name, "step": step, "rms": rms})
            return hook

        handles = [module.register_forward_hook(record(name)) for name, module in _watched(model)]
        torch.manual_seed(seed + 1)  # the same objective noise (e.g. diffusion masks) for every size
        for step in range(steps):
            out = objective(model, batch)
            loss = out[0] if isinstance(out, tuple) else out
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        for handle in handles:
            handle.remove()
    return pl.DataFrame(rows, schema={"width": pl.Int64, "depth": pl.Int64, "layer": pl.String,
                                      "step": pl.Int64, "rms": pl.Float64})
