"""Does the caption shape the image? Image cross-entropy under the true caption and under another.

A text-to-image example with every image code masked leaves the caption as the only information
about the image, so a model that binds captions to images predicts the codes of held-out digits
better under their own caption than under the caption of another digit. The gap (nats per image
code) is zero for a model that ignores the caption, however good its unconditional image model,
and is what a text-to-image sampler needs before any unmasking order can help.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from atelier.data.media import CAPTION_TEMPLATES, MODALITIES, caption
from atelier.data.splits import unit_hash


@torch.no_grad()
def caption_binding(model, data, n: int = 200, val_fraction: float = 0.1) -> dict[str, float]:
    """Mean CE per image code of n held-out digits, all codes masked, given their own caption
    ("own"), given the caption of another digit in the same phrasing ("other"), and the gap."""
    held = data.images.filter(unit_hash(data.images["id"].to_list()) < val_fraction).head(n)
    labels = np.asarray(held["label"].to_list())
    other = (labels + 1 + np.arange(len(labels)) % 9) % 10  # a different digit for every image
    vocab, was_training = data.vocab, model.training
    model.eval()
    out = {}
    for name, digits in (("own", labels), ("other", other)):
        examples = [vocab.encode("t2i", np.asarray(codes), caption(int(d), i % len(CAPTION_TEMPLATES)), data.seq_len)
                    for i, (codes, d) in enumerate(zip(held["image"], digits))]
        tokens = torch.stack([e.tokens for e in examples])  # [n, T]
        noisable = torch.stack([e.loss_mask for e in examples])
        codes = noisable & (vocab.modality_of(tokens) == MODALITIES.index("image"))  # [n, T]: the 64 codes
        logits = model(tokens.masked_fill(noisable, vocab.mask_id))[codes]  # [n * 64, V]
        out[name] = float(F.cross_entropy(logits.float(), tokens[codes]))
    model.train(was_training)
    return {**out, "gap": out["other"] - out["own"]}
