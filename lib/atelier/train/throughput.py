"""Tokens seen, tokens per second and model-FLOPs utilisation (MFU) of a training run.

MFU = (training FLOPs per token x tokens per second per device) / peak FLOP/s of a device.
Training FLOPs per token follow the usual convention (Kaplan et al. 2020; PaLM appendix B):
the backward pass costs twice the forward, so a token costs 3x its forward FLOPs, which for
a transformer is 6N + 12 L T d_attn (N matmul parameters, L layers, context T). A model that
knows its count exposes ``flops_per_token(seq_len)``; for any other model the forward
FLOPs of the first batch are counted with ``torch.utils.flop_counter`` (matmuls and
attention, no causal discount) and tripled.

The peak is measured once per machine by a dense matmul benchmark (bf16 on GPU, float32 on
CPU, with the current thread count) and cached as JSON in ``cache_root()``; pass
``peak_flops`` to use a datasheet number instead.
"""

from __future__ import annotations

import json
import os
import platform
import time

import lightning as L
import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

from atelier.paths import cache_root

PEAK_CACHE = "peak_flops.json"


def _cpu_sdpa_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)


def _cpu_sdpa_backward_flops(grad_out, query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out, query, key, value)


# torch's counter knows the CUDA attention kernels but not the CPU flash kernel.
_CPU_ATTENTION_FLOPS = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flops,
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_sdpa_backward_flops,
}


def counted_flops_per_token(model: torch.nn.Module, tokens: torch.Tensor) -> float:
    """3 x the counted forward FLOPs of ``model(tokens)`` per token of ``tokens`` [B, T]."""
    with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=_CPU_ATTENTION_FLOPS) as counter:
        model(tokens)
    return 3.0 * counter.get_total_flops() / tokens.numel()


def flops_per_token(model: torch.nn.Module, tokens: torch.Tensor) -> float:
    """Training FLOPs per token: ``model.flops_per_token(T)`` if the model has it, else counted."""
    if hasattr(model, "flops_per_token"):
        return float(model.flops_per_token(tokens.shape[-1]))
    return counted_flops_per_token(model, tokens)


def _device_key(device: torch.device, dtype: torch.dtype) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"{platform.machine()} {platform.processor()} {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    return f"{device.type}: {name} | {str(dtype).removeprefix('torch.')}"


def matmul_rates(device: torch.device, dtype: torch.dtype, n: int, repeats: int = 10, inner: int = 5) -> list[float]:
    """FLOP/s of an n x n x n matmul, one rate per repeat of ``inner`` calls, after a short warm-up.

    Runs with torch's current thread count. The MFU peak takes the best rate; bench/peak.py reports
    their median and spread."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(3):
        a @ b
    sync()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            a @ b
        sync()
        rates.append(2.0 * n**3 * inner / (time.perf_counter() - start))
    return rates


def measure_peak_flops(device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> float:
    """Peak dense-matmul FLOP/s of one device, measured on first use and cached per machine."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    path = cache_root() / PEAK_CACHE
    table = json.loads(path.read_text()) if path.exists() else {}
    key = _device_key(device, dtype)
    if key not in table:
        table[key] = max(matmul_rates(device, dtype, 8192 if device.type == "cuda" else 512))
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(table, indent=1))
        tmp.replace(path)
    return float(table[key])


class ThroughputMFU(L.Callback):
    """Logs ``tokens`` (seen, all devices) every step, and ``tokens_per_s`` and ``mfu`` at log steps.

    Tokens are the entries of ``batch["tokens"]``. Throughput is measured over the steps since
    the previous log step (the first window includes start-up). ``mfu`` is per device.
    """

    def __init__(self, peak_flops: float | None = None):
        self.peak_flops = peak_flops
        self.flops_per_token: float | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.peak_flops is None:
            dtype = torch.bfloat16 if "bf16" in str(trainer.precision) else None
            self.peak_flops = measure_peak_flops(pl_module.device, dtype)
        self._tokens = 0
        self._window_tokens = 0
        self._window_start = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.flops_per_token is None:
            self.flops_per_token = flops_per_token(pl_module.model, batch["tokens"])

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        n = batch["tokens"].numel() * trainer.world_size
        self._tokens += n
        self._window_tokens += n
        pl_module.log("tokens", float(self._tokens))
        if trainer.global_step % trainer.log_every_n_steps == 0:
            if pl_module.device.type == "cuda":
                torch.cuda.synchronize(pl_module.device)
            now = time.perf_counter()
            tokens_per_s = self._window_tokens / (now - self._window_start)
            mfu = tokens_per_s * self.flops_per_token / (self.peak_flops * trainer.world_size)
            pl_module.log("tokens_per_s", tokens_per_s)
            pl_module.log("mfu", mfu)
            self._window_tokens, self._window_start = 0, now
