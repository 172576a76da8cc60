"""Text-to-image examples on a fixed canvas: the image first, its caption after it.

The shared layout puts a generation target after its condition, so in a text-to-image example
the 64 image codes start wherever the caption ends and a pixel's position shifts with the
caption's length; a small model then learns a blur of every pixel over its possible positions
and barely uses the caption. An image always has 64 codes, so it can come first:

    <task:draw> <img> 64 codes </img> <bos> caption <eos> <pad> ...

With bidirectional attention the caption conditions the image equally well from after it, and
every pixel has one position, the same as in a captioning example (<task:caption> <img> ...),
so both directions share one canvas. Only the image codes and </img> are generated; the
caption and the pads after it stay visible. Variable-length targets (text, audio) keep the
shared layout: a condition placed after them would move with their unknown length.
"""

from __future__ import annotations

import torch

from atelier.data.media import MultimodalVocab
from atelier.data.media.image import N_TOKENS
from atelier.data.media.vocab import Example


class CanvasVocab(MultimodalVocab):
    """MultimodalVocab whose text-to-image examples and prompts put the image first."""

    def encode(self, task: str, target, condition=None, length: int | None = None, noisable_pads: bool = True
               ) -> Example:
        if task != "t2i":
            return super().encode(task, target, condition, length, noisable_pads)
        if condition is None:
            raise ValueError("task 't2i' takes a text condition")
        image = self._segment("image", target)
        tokens = [self.special["<task:draw>"], *image, *self._segment("text", condition)]
        if length is not None and len(tokens) > length:
            raise ValueError(f"a t2i example of {len(tokens)} tokens does not fit length {length}")
        pads = 0 if length is None else length - len(tokens)
        loss_mask = [False, False] + [True] * (len(image) - 1) + [False] * (len(tokens) - len(image) - 1 + pads)
        return Example(torch.tensor(tokens + [self.pad_id] * pads), torch.tensor(loss_mask), task)

    def prompt(self, task: str, condition, length: int) -> Example:
        if task != "t2i":
            return super().prompt(task, condition, length)
        example = self.encode(task, [0] * N_TOKENS, condition, length)  # placeholder codes, masked below
        example.tokens[example.loss_mask] = self.mask_id
        return example
