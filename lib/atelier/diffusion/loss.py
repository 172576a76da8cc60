"""The masked-diffusion NELBO (MDLM, Sahoo et al. 2024) as a training objective.

    L(x) = E_{t ~ U(eps, 1)} [ w(t) * sum_{i masked in z_t} -log p_theta(x_i | z_t) ]

z_t masks each noisable token independently with probability 1 - alpha(t). Logits are computed
only at the masked positions (model.features, then model.unembed on the gathered rows), which
saves most of the unembedding cost at small t. With ``fused=True`` training goes one step
further in memory: the unembedding and the cross-entropy run as one chunked kernel
(atelier.kernels.linear_cross_entropy), so not even the [masked, V] logits are held at once.
It is opt-in because it is slower: it recomputes the logits in the backward (on an H100, 5x the
gathered rows' time at 15% masked; docs/performance.md), so it pays only when memory binds.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from atelier.diffusion.schedules import Schedule, get_schedule
from atelier.kernels import linear_cross_entropy


def attention_mask_of(batch: dict):
    """The model mask for a batch: None, or batch["attention_mask"]; a key-padding Bool[B, T]
    (True = real token) becomes [B, 1, 1, T]."""
    mask = batch.get("attention_mask")
    if mask is not None and mask.ndim == 2 and mask.shape == batch["tokens"].shape:
        mask = mask[:, None, None, :]  # [B, 1, 1, T]: every query sees the real keys
    return mask


class MaskedDiffusionLoss:
    """objective(model, batch) -> (loss, metrics) for a bidirectional model with features/unembed.

    schedule: a Schedule or its name ("linear", "cosine", "polynomial"); t ~ U(eps, 1), stratified
    across the batch when low_discrepancy (lower variance, same expectation).
    batch: "tokens" Long[B, T]; optional "loss_mask" Bool[B, T] (positions that may be noised;
    False = always visible, e.g. a prompt or padding) and "attention_mask".
    loss is the NELBO in nats per noisable token; metrics hold scalars (nelbo, masked_ce,
    mask_rate). per_example gives the NELBO of each sequence for evaluation.
    fused: the training loss through the fused linear + cross-entropy kernel (the model needs
    ``lm_head`` and ``output_scale``, as atelier.nn.Transformer has), for when the [masked, V] logits
    do not fit. The value and gradients are the unfused ones; masked_ce is then not reported (it would
    need the per-token losses the kernel never materialises).
    """

    def __init__(self, schedule: Schedule | str, mask_id: int, eps: float = 1e-3, low_discrepancy: bool = True,
                 fused: bool = False):
        if not 0.0 <= eps < 1.0:
            raise ValueError(f"eps={eps} must lie in [0, 1)")
        self.schedule = get_schedule(schedule) if isinstance(schedule, str) else schedule
        self.mask_id, self.eps, self.low_discrepancy, self.fused = mask_id, eps, low_discrepancy, fused

    def sample_t(self, batch_size: int, device=None, generator=None) -> torch.Tensor:
        """t [B] in [eps, 1); low-discrepancy: one uniform offset plus a stratified grid i/B."""
        if self.low_discrepancy:
            u = (torch.rand(1, device=device, generator=generator)
                 + torch.arange(batch_size, device=device) / batch_size) % 1
        else:
            u = torch.rand(batch_size, device=device, generator=generator)
        return self.eps + (1 - self.eps) * u

    def _noise_and_encode(self, model, batch: dict, generator=None):
        """Noise the batch once and encode it: (t [B], masked Bool[B, T], noisable Bool[B, T],
        final hidden states h [B, T, D])."""
        tokens = batch["tokens"]
        B, T = tokens.shape
        noisable = batch.get("loss_mask")
        noisable = torch.ones_like(tokens, dtype=torch.bool) if noisable is None else noisable.bool()
        t = self.sample_t(B, tokens.device, generator)  # [B]
        p_mask = 1 - self.schedule.alpha(t)  # [B]
        u = torch.rand(B, T, device=tokens.device, generator=generator)
        masked = (u < p_mask[:, None]) & noisable  # [B, T]
        z = tokens.masked_fill(masked, self.mask_id)
        return t, masked, noisable, model.features(z, mask=attention_mask_of(batch))

    def _noise_and_score(self, model, batch: dict, generator=None):
        """Noise the batch once; (weighted CE [B, T]: w(t) * CE at masked positions, 0 elsewhere,
        masked Bool[B, T], noisable Bool[B, T], CE [M] of the M masked tokens)."""
        tokens = batch["tokens"]
        B, T = tokens.shape
        t, masked, noisable, h = self._noise_and_encode(model, batch, generator)
        logits = model.unembed(h[masked])  # [M, V], M = masked positions
        ce = F.cross_entropy(logits.float(), tokens[masked], reduction="none")  # [M]
        ce_bt = torch.zeros(B, T, device=tokens.device).masked_scatter(masked, ce)  # [B, T], row-major like h[masked]
        return ce_bt * self.schedule.weight(t)[:, None], masked, noisable, ce

    def per_example(self, model, batch: dict, generator=None) -> torch.Tensor:
        """One-sample NELBO estimate of each sequence [B], in nats summed over its noisable
        tokens (an upper bound on -log p(x) in expectation; average several calls to tighten)."""
        return self._noise_and_score(model, batch, generator)[0].sum(1)

    def per_token(self, model, batch: dict, generator=None) -> torch.Tensor:
        """One-sample NELBO terms of each position [B, T]: w(t) * CE where the token was masked, 0
        elsewhere (its row sums are per_example). Grouping them, e.g. by the modality of each
        token, splits the NELBO into per-group parts that add up to the whole."""
        return self._noise_and_score(model, batch, generator)[0]

    def __call__(self, model, batch: dict):
        if self.fused:
            if not (hasattr(model, "lm_head") and hasattr(model, "output_scale")):
                raise ValueError(f"fused=True needs a model with lm_head and output_scale; {type(model).__name__} "
                                 "has not: use fused=False")
            t, masked, noisable, h = self._noise_and_encode(model, batch)
            row_weight = self.schedule.weight(t)[:, None].expand_as(masked)[masked]  # [M]: w(t) of each row's example
            total = linear_cross_entropy(h[masked], model.lm_head.weight, batch["tokens"][masked],
                                         multiplier=model.output_scale, weights=row_weight, reduction="sum")
            metrics = {}
        else:
            weighted, masked, noisable, ce = self._noise_and_score(model, batch)
            total = weighted.sum()
            metrics = {"masked_ce": ce.mean().detach() if ce.numel() else torch.zeros((), device=ce.device)}
        n_tokens = noisable.sum().clamp(min=1)
        loss = total / n_tokens
        return loss, {"nelbo": loss.detach(), **metrics, "mask_rate": masked.sum() / n_tokens}
