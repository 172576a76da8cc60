"""Parameterisations SP, muP and CompleteP: how init, forward multipliers and AdamW settings
scale with width and depth, so that hyperparameters tuned on a small base model transfer.

With m_w = width / base_width and m_d = depth / base_depth (CompleteP, Dey et al. 2025,
arXiv 2505.01618, and its per-module extension arXiv 2512.22382):

    residual branch      h + m_d^-alpha F(h)                         (CompleteP; 1 for SP, muP)
    hidden weights       init std / sqrt(m_w); LR * m_w^-1 m_d^(alpha-1);
                         eps * m_w^-1 m_d^-alpha; weight decay * m_w (lr * wd constant in width)
    norm gains (blocks)  LR * m_d^(alpha-1); eps * m_w^-1 m_d^-alpha; no weight decay
    final norm gain      LR * 1; eps * m_w^-1; no weight decay
    embedding, unembed.  init std * 1; LR * 1; eps * m_w^-1; weight decay * 1
    output logits        * 1 / m_w
    attention scale      1 / d_head (1 / sqrt(d_head) for SP)

muP is CompleteP's width rules with m_d fixed to 1; SP keeps every base value (m_w = m_d = 1
in the formulas) and the usual 1/sqrt(d_head). The embedding / unembedding / final-norm eps
follows the reference CompleteP code (eps scales like those gradients, 1 / m_w).

Per-module multipliers stack on top, keyed by module class, e.g.
``Parameterisation("completep", 64, 2, multipliers={"mlp": {"lr": 2.0, "init": 0.5}})``:

    embedding     lr, init, wd, eps, mult (forward multiplier on the embedding output)
    attention     lr, init, wd, eps, mult (multiplier on the attention-logit scale)
    mlp           lr, init, wd, eps
    norm          lr, eps (norm gains start at 1 and are never decayed)
    unembedding   lr, init, wd, eps, mult (multiplier on the output logits)
    residual      mult (multiplier on every residual branch)

With tied embeddings the shared matrix follows the embedding rules and multipliers. At small
base widths an embedding std of order 1 (e.g. {"embedding": {"init": 50.0}} with init_std 0.02)
keeps block inputs correlated across the first large updates, so coordinate checks are flat
from a smaller base width on.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl
import torch

if TYPE_CHECKING:
    from atelier.nn.model import Transformer, TransformerConfig

KINDS = ("sp", "mup", "completep")
KNOBS = {
    "embedding": ("lr", "init", "wd", "eps", "mult"),
    "attention": ("lr", "init", "wd", "eps", "mult"),
    "mlp": ("lr", "init", "wd", "eps"),
    "norm": ("lr", "eps"),
    "unembedding": ("lr", "init", "wd", "eps", "mult"),
    "residual": ("mult",),
}
# Parameter roles (Transformer.parameter_roles) -> the module class whose multipliers apply.
ROLE_MODULE = {"embedding": "embedding", "attention": "attention", "mlp": "mlp", "norm": "norm",
               "final_norm": "norm", "unembedding": "unembedding"}


@dataclasses.dataclass(frozen=True)
class Rule:
    """Factors on the base hyperparameters for one parameter role (init is an absolute std)."""

    init: float | None  # normal init std; None = norm gain, initialised to 1
    lr: float
    wd: float
    eps: float


@dataclasses.dataclass(frozen=True)
class Parameterisation:
    """SP, muP or CompleteP(alpha) relative to a base model of base_width x base_depth.

    base_width / base_depth None means the model's own (multipliers 1). init_std is the base
    std of every weight matrix (0.02 as in GPT-2, or e.g. 1/sqrt(base fan-in)).
    """

    kind: str = "sp"
    base_width: int | None = None
    base_depth: int | None = None
    alpha: float = 1.0
    init_std: float = 0.02
    multipliers: Mapping[str, Mapping[str, float]] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}: valid kinds are {KINDS}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha={self.alpha}: CompleteP's depth exponent must lie in [0, 1] (0.5 or 1 usual)")
        for name, value in (("base_width", self.base_width), ("base_depth", self.base_depth)):
            if value is not None and value < 1:
                raise ValueError(f"{name}={value} must be a positive int or None")
        if self.init_std <= 0:
            raise ValueError(f"init_std={self.init_std} must be positive")
        for module, knobs in self.multipliers.items():
            if module not in KNOBS:
                raise ValueError(f"multipliers[{module!r}]: valid modules are {tuple(KNOBS)}")
            for knob, value in knobs.items():
                if knob not in KNOBS[module]:
                    raise ValueError(f"multipliers[{module!r}][{knob!r}]: valid knobs for {module} are {KNOBS[module]}")
                if not value > 0:
                    raise ValueError(f"multipliers[{module!r}][{knob!r}]={value} must be positive")

    def mult(self, module: str, knob: str) -> float:
        """The user multiplier of one knob of one module class (1 when unset)."""
        return float(self.multipliers.get(module, {}).get(knob, 1.0))

    def width_mult(self, cfg: TransformerConfig) -> float:
        """m_w = width / base_width (1 for SP: its rules do not depend on width)."""
        return 1.0 if self.kind == "sp" else cfg.width / (self.base_width or cfg.width)

    def depth_mult(self, cfg: TransformerConfig) -> float:
        """m_d = depth / base_depth (1 unless CompleteP: only it scales with depth)."""
        return cfg.depth / (self.base_depth or cfg.depth) if self.kind == "completep" else 1.0

    # Forward multipliers, read by the Transformer when it is built.

    def residual_scale(self, cfg: TransformerConfig) -> float:
        """Multiplier of every residual branch: m_d^-alpha, so the sum over depth stays O(1)."""
        return self.depth_mult(cfg) ** -self.alpha * self.mult("residual", "mult")

    def attention_scale(self, cfg: TransformerConfig) -> float:
        """Softmax temperature of q.k: 1/d_head under muP/CompleteP (q and k become correlated
        during training, so q.k grows like d_head), 1/sqrt(d_head) for SP."""
        base = 1.0 / math.sqrt(cfg.d_head) if self.kind == "sp" else 1.0 / cfg.d_head
        return base * self.mult("attention", "mult")

    def embedding_scale(self, cfg: TransformerConfig) -> float:
        """Multiplier of the token embeddings (1: their RMS does not depend on width)."""
        return self.mult("embedding", "mult")

    def output_scale(self, cfg: TransformerConfig) -> float:
        """Multiplier of the logits: 1/m_w, since the readout sums width coordinates that become
        correlated with its weights during training."""
        return self.mult("unembedding", "mult") / self.width_mult(cfg)

    # Per-role init and optimizer factors.

    def rules(self, cfg: TransformerConfig) -> dict[str, Rule]:
        """Rule for each parameter role (see Transformer.parameter_roles), multipliers applied."""
        m_w, m_d, a = self.width_mult(cfg), self.depth_mult(cfg), self.alpha
        base = {
            # Embedding and unembedding have one finite dimension (the vocabulary): Adam's
            # update of size LR per coordinate already is O(1), so LR stays; eps follows their
            # gradients, which shrink like 1/m_w.
            "embedding": Rule(init=self.init_std, lr=1.0, wd=1.0, eps=1 / m_w),
            "unembedding": Rule(init=self.init_std, lr=1.0, wd=1.0, eps=1 / m_w),
            # Hidden matrices: an Adam update of LR per coordinate moves the output by
            # LR * fan_in, hence LR / m_w; the depth factor keeps each block's contribution to the
            # total update O(1/m_d) under the m_d^-alpha branch multiplier. Weight decay * m_w keeps
            # the AdamW timescale 1/(lr * wd) fixed. eps follows the gradient scale.
            "attention": Rule(init=self.init_std / math.sqrt(m_w), lr=m_d ** (a - 1) / m_w,
                              wd=m_w, eps=m_d ** -a / m_w),
            "mlp": Rule(init=self.init_std / math.sqrt(m_w), lr=m_d ** (a - 1) / m_w,
                        wd=m_w, eps=m_d ** -a / m_w),
            # Norm gains inside blocks act through the residual branch like hidden weights, minus
            # the fan-in; the final norm sits outside every branch.
            "norm": Rule(init=None, lr=m_d ** (a - 1), wd=0.0, eps=m_d ** -a / m_w),
            "final_norm": Rule(init=None, lr=1.0, wd=0.0, eps=1 / m_w),
        }
        out = {}
        for role, rule in base.items():
            module = ROLE_MODULE[role]
            init = None if rule.init is None else rule.init * self.mult(module, "init")
            out[role] = Rule(init=init, lr=rule.lr * self.mult(module, "lr"),
                             wd=rule.wd * self.mult(module, "wd"), eps=rule.eps * self.mult(module, "eps"))
        return out

    def table(self, cfg: TransformerConfig) -> pl.DataFrame:
        """The rules for one model as a table: role, init std, lr / wd / eps factors."""
        return pl.DataFrame([{"role": role, **dataclasses.asdict(rule)} for role, rule in self.rules(cfg).items()])


def param_groups(model: Transformer, lr: float, weight_decay: float = 0.0, eps: float = 1e-8,
                 betas: tuple[float, float] = (0.9, 0.95)) -> list[dict]:
    """AdamW parameter groups for `model` under its parameterisation, one per role.

    Each group carries its own lr, weight_decay, eps, betas, "name" (the module class:
    embedding, attention, mlp, norm, unembedding) and "role" (name, or final_norm). Pass the
    list to torch.optim.AdamW; LR schedulers scale each group's lr proportionally.
    """
    rules = model.parameterisation.rules(model.cfg)
    roles = model.parameter_roles()
    by_role: dict[str, list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            by_role.setdefault(roles[name], []).append(param)
    return [
        {"params": params, "name": ROLE_MODULE[role], "role": role, "lr": lr * rules[role].lr,
         "weight_decay": weight_decay * rules[role].wd, "eps": eps * rules[role].eps, "betas": betas}
        for role, params in by_role.items()
    ]
