"""One id space for text, image and audio tokens, and the layout of multimodal examples.

Ids, in order: the text tokenizer's ids [0, n_text), 16 image grey levels, K audio codes, then
whichever SPECIALS the text tokenizer lacks. The specials are <pad>, <mask>, the modality
boundaries (<bos> <eos> around text, <img> </img>, <audio> </audio>) and one task token per kind
of example; atelier's TextTokenizer already holds them all, so with it nothing is appended.
An example is

    <task> <open> condition <close> <open> target <close> <pad> ...

(the text-only task has no condition). The target (its tokens, its closing boundary and the
trailing pads) is what a masked-diffusion model learns to generate: loss_mask is True there and
False on the task token, the condition and the target's opening boundary, which stay visible.
By default the trailing pads belong to the target, so a model trained this way also learns
where a variable-length text or audio target ends (as LLaDA does with its end tokens).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
import torch

from atelier.data.media.audio import AudioCodec
from atelier.data.media.image import LEVELS

MODALITIES = ("special", "text", "image", "audio")  # index = per-token modality id
TASKS = {  # task -> (condition modality or None, target modality, task token)
    "text": (None, "text", "<task:text>"),
    "t2i": ("text", "image", "<task:draw>"),
    "i2t": ("image", "text", "<task:caption>"),
    "tts": ("text", "audio", "<task:speak>"),
    "asr": ("audio", "text", "<task:transcribe>"),
}
BOUNDARIES = {"text": ("<bos>", "<eos>"), "image": ("<img>", "</img>"), "audio": ("<audio>", "</audio>")}
SPECIALS = ("<pad>", "<mask>", *(b for pair in BOUNDARIES.values() for b in pair), *(t[2] for t in TASKS.values()))


class TextCodec(Protocol):
    """What the vocabulary needs from a text tokenizer (atelier.data.tokenizer.TextTokenizer has it)."""

    vocab_size: int
    special_ids: dict[str, int]  # may lack some or all of SPECIALS

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...


@dataclasses.dataclass
class Example:
    """One encoded example: tokens Long[T], loss_mask Bool[T] (True = to generate), task name."""

    tokens: torch.Tensor
    loss_mask: torch.Tensor
    task: str


class MultimodalVocab:
    """Lays text ids, image codes, audio codes and specials in one id space; encodes and decodes examples."""

    def __init__(self, text: TextCodec, audio: AudioCodec):
        self.text, self.audio = text, audio
        text_specials = dict(getattr(text, "special_ids", {}))
        appended = [s for s in SPECIALS if s not in text_specials]
        self.sizes = {"text": text.vocab_size, "image": LEVELS, "audio": audio.codebook_size, "special": len(appended)}
        self.offset, start = {}, 0
        for name in ("text", "image", "audio", "special"):
            self.offset[name], start = start, start + self.sizes[name]
        self.size = start
        self.special = {**text_specials, **{s: self.offset["special"] + i for i, s in enumerate(appended)}}
        self.mask_id, self.pad_id = self.special["<mask>"], self.special["<pad>"]
        table = torch.zeros(self.size, dtype=torch.long)  # id -> modality id; specials stay 0
        for modality in ("text", "image", "audio"):
            table[self.offset[modality]:self.offset[modality] + self.sizes[modality]] = MODALITIES.index(modality)
        table[list(self.special.values())] = MODALITIES.index("special")
        self.modality_table = table

    def __len__(self) -> int:
        return self.size

    # -- per-modality content <-> ids -------------------------------------------------------------
    def content_ids(self, modality: str, content) -> list[int]:
        """Text (str, or its tokenizer ids), image codes (0..15) or audio codes (0..K-1) -> shared-space ids."""
        if modality == "text" and isinstance(content, str):
            ids = np.asarray(self.text.encode(content), dtype=np.int64)
        else:
            ids = np.asarray(content, dtype=np.int64).reshape(-1)
        if ids.size and not (0 <= ids.min() and ids.max() < self.sizes[modality]):
            raise ValueError(f"{modality} ids must lie in [0, {self.sizes[modality]}), got [{ids.min()}, {ids.max()}]")
        return (ids + self.offset[modality]).tolist()

    def content(self, modality: str, ids: list[int]):
        """Ids of one modality in the shared space -> text (str) or codes (int64 array)."""
        local = np.asarray(ids, dtype=np.int64) - self.offset[modality]
        return self.text.decode(local.tolist()) if modality == "text" else local

    def modality_of(self, tokens: torch.Tensor) -> torch.Tensor:
        """Ids [...] -> modality ids [...] (index into MODALITIES)."""
        return self.modality_table[tokens]

    # -- examples ----------------------------------------------------------------------------------
    def encode(self, task: str, target, condition=None, length: int | None = None, noisable_pads: bool = True
               ) -> Example:
        """Encode one example; pad to `length` when given. The pads join the target (noisable_pads) or
        stay visible (then they are padding a model should ignore, see MultimodalDataModule)."""
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}: use one of {list(TASKS)}")
        cond_modality, target_modality, task_token = TASKS[task]
        if (condition is None) != (cond_modality is None):
            raise ValueError(f"task {task!r} takes {'a ' + cond_modality if cond_modality else 'no'} condition")
        visible = [self.special[task_token]]
        if cond_modality:
            visible += self._segment(cond_modality, condition)
        opening, *generated = self._segment(target_modality, target)
        tokens = visible + [opening] + generated
        loss_mask = [False] * (len(visible) + 1) + [True] * len(generated)
        if length is not None:
            if len(tokens) > length:
                raise ValueError(f"a {task} example of {len(tokens)} tokens does not fit length {length}")
            loss_mask += [noisable_pads] * (length - len(tokens))
            tokens += [self.pad_id] * (length - len(tokens))
        return Example(torch.tensor(tokens), torch.tensor(loss_mask), task)

    def prompt(self, task: str, condition, length: int) -> Example:
        """The example to sample from: the condition visible, every target position set to <mask>."""
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}: use one of {list(TASKS)}")
        target_modality = TASKS[task][1]
        empty = "" if target_modality == "text" else []
        example = self.encode(task, empty, condition, length)
        example.tokens[example.loss_mask] = self.mask_id
        return example

    def _segment(self, modality: str, content) -> list[int]:
        opening, closing = BOUNDARIES[modality]
        return [self.special[opening], *self.content_ids(modality, content), self.special[closing]]

    def split(self, tokens: torch.Tensor) -> list[tuple[str, list[int]]]:
        """Ids [T] -> [(modality, ids of that modality)], one entry per boundary-opened segment.

        Lenient, for generated sequences: a segment runs from its opening boundary to the next
        boundary, pad or the end; other ids inside it (another modality, a leftover <mask>) are dropped.
        """
        openings = {self.special[o]: m for m, (o, _) in BOUNDARIES.items()}
        endings = {self.special[c] for _, c in BOUNDARIES.values()} | {self.pad_id}
        segments, current = [], None
        for token, kind in zip(tokens.tolist(), self.modality_of(tokens).tolist()):
            if token in openings or token in endings:
                if current is not None:
                    segments.append(current)
                current = (openings[token], []) if token in openings else None
            elif current is not None and MODALITIES[kind] == current[0]:
                current[1].append(token)
        if current is not None:
            segments.append(current)
        return segments

    def decode(self, tokens: torch.Tensor) -> dict:
        """Ids [T] -> {"task", "condition", "target"} with text as str and codes as int64 arrays."""
        ids = tokens.tolist()
        task = next((t for t, (_, _, token) in TASKS.items() if ids and ids[0] == self.special[token]), None)
        if task is None:
            raise ValueError(f"sequence must start with a task token {[t[2] for t in TASKS.values()]}, got {ids[:1]}")
        parts = [(m, self.content(m, seg)) for m, seg in self.split(tokens)]
        cond_modality, target_modality, _ = TASKS[task]
        target = next((c for m, c in reversed(parts) if m == target_modality), None)
        condition = next((c for m, c in parts if m == cond_modality), None) if cond_modality else None
        return {"task": task, "condition": condition, "target": target}
