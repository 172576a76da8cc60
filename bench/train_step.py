"""Training step: tokens/s and MFU of the atelier transformer under the AR and masked-diffusion
objectives at three sizes, eager and torch.compile (TrainConfig.compile), with a plain PyTorch loop of the same shapes
beside atelier's Lightning ``fit``: their ratio is Lightning's overhead.

Per-step times come from differences (steps n2 minus n1, after one warm-up call that compiles),
so start-up and compilation cancel; each is the median of ``REPEATS`` differences, the spread
their range. Inside Lightning the clock runs from the second step to the end of training, since
on a GPU the start of a ``fit`` call varies by more than the steps a difference spans. MFU
divides the FLOPs one training step really executes (counted once by torch.utils.flop_counter:
the masked-diffusion loss unembeds only the masked rows) by the measured matmul peak. Run alone
as ``python -m bench.train_step [--dtype bf16] [--out DIR] [--quick] [--largest]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import lightning as L
import torch
from torch.utils.flop_counter import FlopCounterMode

from atelier.diffusion import MaskedDiffusionLoss
from atelier.nn import Transformer, TransformerConfig, param_groups
from atelier.train import NextTokenLoss, TrainConfig, fit
from bench.common import device, row
from bench.peak import peak_flops

VOCAB = 4096
CPU_SIZES = [(256, 4, 256, 4), (384, 6, 256, 4), (512, 8, 256, 4)]  # width, depth, seq, batch
GPU_SIZES = [(256, 4, 256, 64), (512, 8, 512, 32), (768, 12, 1024, 16)]
REPEATS = 3


def make(width: int, depth: int, seq: int, objective: str, dev: torch.device) -> tuple[Transformer, object]:
    attention = "causal" if objective == "ar" else "bidirectional"
    cfg = TransformerConfig(vocab_size=VOCAB, width=width, depth=depth, n_heads=max(1, width // 64), max_len=seq,
                            attention=attention)
    model = Transformer(cfg).to(dev)
    loss = NextTokenLoss() if objective == "ar" else MaskedDiffusionLoss("linear", mask_id=VOCAB - 1)
    return model, loss


def batches(seq: int, batch: int, n: int, dev: torch.device) -> torch.utils.data.DataLoader:
    """A loader of n fixed random batches (batch_size=None: each item already is a batch)."""
    g = torch.Generator().manual_seed(0)
    data = [{"tokens": torch.randint(0, VOCAB - 1, (batch, seq), generator=g).to(dev)} for _ in range(n)]
    return torch.utils.data.DataLoader(data, batch_size=None)


def step_flops(model, objective, data, dtype: torch.dtype) -> float:
    """FLOPs of one forward + backward on the first batch, as executed (counted, not modelled)."""
    batch = next(iter(data))
    with FlopCounterMode(display=False) as counter, _autocast(batch, dtype):
        objective(model, batch)[0].backward()
    model.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())


def _autocast(batch: dict, dtype: torch.dtype):
    return torch.autocast(device_type=batch["tokens"].device.type, dtype=dtype, enabled=dtype != torch.float32)


def plain_loop_seconds(model, objective, data, steps: int, dtype: torch.dtype) -> float:
    """Wall seconds of ``steps`` AdamW steps of a bare loop (the baseline). ``objective`` may be
    torch.compile'd: it traces through the model's forward and the loss."""
    items = list(data)
    model.to(items[0]["tokens"].device)  # Lightning's teardown after a GPU fit leaves the model on the CPU
    opt = torch.optim.AdamW(param_groups(model, lr=1e-3, weight_decay=0.0, eps=1e-8, betas=(0.9, 0.95)))
    sync = torch.cuda.synchronize if items[0]["tokens"].is_cuda else (lambda: None)
    sync()
    start = time.perf_counter()
    for i in range(steps):
        with _autocast(items[0], dtype):
            loss, _ = objective(model, items[i % len(items)])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    sync()
    return time.perf_counter() - start


class _StepClock(L.Callback):
    """Wall seconds from the start of the second optimizer step to the end of training (CUDA
    synchronised): the steps alone, without the start and teardown of the ``fit`` call, whose
    variation on a GPU exceeds the few steps a difference measures, nor the first step's warm-up."""

    def __init__(self):
        self.start = self.seconds = None

    def _now(self, pl_module) -> float:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)
        return time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == 1 and self.start is None:
            self.start = self._now(pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        self.seconds = self._now(pl_module) - self.start if self.start is not None else 0.0


def lightning_seconds(model, objective, data, steps: int, dtype: torch.dtype, run_dir, compile_: bool = False) -> float:
    """Seconds of steps 2..steps inside atelier's ``fit`` (see _StepClock)."""
    precision = "bf16-mixed" if dtype == torch.bfloat16 else "32-true"
    cfg = TrainConfig(steps=steps, lr=1e-3, schedule="constant", log_every=max(1, steps), precision=precision,
                      compile=compile_)
    clock = _StepClock()
    fit(cfg, model, objective, train=data, run_dir=run_dir, name="bench", callbacks=[clock])
    return clock.seconds


def per_step(seconds_of, n1: int, n2: int) -> tuple[float, float]:
    """(median, range) over REPEATS of the per-step time (seconds_of(n2) - seconds_of(n1)) / (n2 - n1),
    after one warm-up call."""
    seconds_of(1)
    times = sorted((seconds_of(n2) - seconds_of(n1)) / (n2 - n1) for _ in range(REPEATS))
    return times[len(times) // 2], times[-1] - times[0]


def run(quick: bool = False, dtype: torch.dtype = torch.float32, largest: bool = False) -> list[dict]:
    dev = device()
    peak = peak_flops(dtype, quick=quick)
    sizes = GPU_SIZES if dev.type == "cuda" else CPU_SIZES[:1 if quick else None]
    sizes = sizes[-1:] if largest else sizes
    n1, n2 = (2, 5) if quick else (3, 10)
    rows = [row("train_step", "peak", str(dtype).removeprefix("torch."), peak / 1e9, "GFLOP/s")]
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as run_dir:  # Lightning logs, dropped
        for width, depth, seq, batch in sizes:
            data = batches(seq, batch, 4, dev)
            for objective in ("ar", "mdm"):
                name = f"w{width} d{depth} T{seq} B{batch} {objective}"
                model, loss = make(width, depth, seq, objective, dev)
                flops = step_flops(model, loss, data, dtype)
                rows.append(row("train_step", name, "FLOPs per token", flops / (batch * seq) / 1e6, "MFLOP",
                                note=f"counted; 6N + attention = {model.flops_per_token(seq) / 1e6:.1f}"))
                variants = {
                    "plain eager": lambda n: plain_loop_seconds(model, loss, data, n, dtype),
                    "lightning eager": lambda n: lightning_seconds(model, loss, data, n, dtype, run_dir),
                }
                if not quick:
                    compiled = torch.compile(loss)
                    variants["plain compiled"] = lambda n: plain_loop_seconds(model, compiled, data, n, dtype)
                    variants["lightning compiled"] = lambda n: lightning_seconds(model, loss, data, n, dtype, run_dir,
                                                                                 True)
                step = {}
                for variant, seconds_of in variants.items():
                    step[variant], spread = per_step(seconds_of, n1, n2)
                    tokens_s = batch * seq / step[variant]
                    print(f"[train_step] {name}, {variant}: {tokens_s:,.0f} tokens/s, "
                          f"MFU {100 * flops / step[variant] / peak:.1f}%", flush=True)
                    rows += [row("train_step", name, f"{variant} tokens/s", tokens_s, "tokens/s",
                                 tokens_s * spread / step[variant]),
                             row("train_step", name, f"{variant} MFU", 100 * flops / step[variant] / peak, "%",
                                 note="target >= 75% at the largest size" if variant == "plain eager" else "")]
                overhead = 100 * (step["lightning eager"] / step["plain eager"] - 1)
                rows.append(row("train_step", name, "lightning overhead", overhead, "%", note="target <= 5%"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--out", default=None, help="folder for results.parquet and summary.md")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--largest", action="store_true", help="only the largest size (the one the targets read)")
    args = parser.parse_args()
    from bench.__main__ import write

    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    write(run(args.quick, dtype, largest=args.largest), args.out)


if __name__ == "__main__":
    main()
