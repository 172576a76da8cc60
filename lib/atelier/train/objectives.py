"""Training objectives: callables ``objective(model, batch) -> (loss, metrics)``.

Every objective in atelier follows this protocol, so the LightningModule never needs to
know which one it trains with: ``loss`` is a scalar tensor to minimise and ``metrics`` a
dict of scalar tensors to log next to it. The masked-diffusion NELBO
(``atelier.diffusion.MaskedDiffusionLoss``) is the other objective.
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F


class Objective(Protocol):
    def __call__(self, model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...


class NextTokenLoss:
    """Causal language-modelling cross-entropy (nats per predicted token).

    The batch is a dict with ``tokens`` Long[B, T] and optionally
    - ``targets`` Long[B, T]: the label of every position (already shifted, e.g. by a
      packing datamodule); the model then reads all T tokens. Without it the model reads
      tokens[:, :-1] and predicts tokens[:, 1:].
    - ``loss_mask`` Bool[B, T] aligned with ``tokens`` (or with ``targets`` when given):
      False drops that position's target from the loss (e.g. a prompt).
    Targets equal to ``ignore_index`` never count. The loss is the mean over counted targets.
    """

    def __init__(self, ignore_index: int = -100):
        self.ignore_index = ignore_index

    def _inputs_and_targets(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = batch["tokens"]
        if "targets" in batch:
            inputs, targets = tokens, batch["targets"]
            mask = batch.get("loss_mask")
        else:
            inputs, targets = tokens[:, :-1], tokens[:, 1:]
            mask = batch["loss_mask"][:, 1:] if "loss_mask" in batch else None
        if mask is not None:
            targets = targets.masked_fill(~mask.bool(), self.ignore_index)
        return inputs, targets

    def _losses(self, model, batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-position losses [B, T'] (0 where not counted), logits [B, T', V], targets [B, T']."""
        inputs, targets = self._inputs_and_targets(batch)
        logits = model(inputs)
        losses = F.cross_entropy(
            logits.flatten(0, 1).float(), targets.flatten(), ignore_index=self.ignore_index, reduction="none"
        ).view_as(targets)
        return losses, logits, targets

    def per_token(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        """Cross-entropy of every target, [B, T-1] ([B, T] with ``targets``); 0 where ignored."""
        return self._losses(model, batch)[0]

    def __call__(self, model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        losses, logits, targets = self._losses(model, batch)
        counted = targets != self.ignore_index
        n = counted.sum().clamp(min=1)
        loss = losses.sum() / n
        accuracy = ((logits.argmax(-1) == targets) & counted).sum() / n
        return loss, {"accuracy": accuracy.detach()}
