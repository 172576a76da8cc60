"""Validation NELBO split by modality, with noise common to every model.

The masked-diffusion NELBO is a sum over positions of w(t) * CE at the masked ones
(MaskedDiffusionLoss.per_token), so grouping its terms by the modality of the target token
splits it into text, image and audio parts (the rest are boundaries and pads). Each part is
reported in nats per token of that modality. Every model is scored on the same examples with
the same draws of t and of the masks (a seeded generator), so differences between models are
not blurred by evaluation noise. The estimator always uses the linear schedule: the
continuous-time NELBO does not depend on the schedule (Sahoo et al. 2024), only its variance
does, so models trained under different schedules are scored on one scale.
"""

from __future__ import annotations

import torch

from atelier.data.media import MODALITIES
from atelier.diffusion import Linear, MaskedDiffusionLoss

GROUPS = ("text", "image", "audio", "all")


@torch.no_grad()
def modality_losses(model: torch.nn.Module, batches: list[dict], mask_id: int, passes: int = 1, seed: int = 0
                    ) -> dict[str, float]:
    """NELBO per target token of each modality, and "all": per noisable token (the training loss)."""
    objective = MaskedDiffusionLoss(Linear(), mask_id)
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    sums = torch.zeros(len(MODALITIES), dtype=torch.float64)
    counts = torch.zeros(len(MODALITIES), dtype=torch.float64)
    for _ in range(passes):
        for batch in batches:
            terms = objective.per_token(model, batch, generator=generator)  # [B, T]
            noisable = batch["loss_mask"]
            modality = batch["modality"][noisable]  # [K] over the noisable positions
            sums.index_add_(0, modality, terms[noisable].double())
            counts.index_add_(0, modality, torch.ones_like(modality, dtype=torch.float64))
    model.train(was_training)
    out = {m: float(sums[MODALITIES.index(m)] / counts[MODALITIES.index(m)].clamp(min=1)) for m in GROUPS[:-1]}
    out["all"] = float(sums.sum() / counts.sum().clamp(min=1))
    return out
