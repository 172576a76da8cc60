"""The Soup-of-Experts: one small transformer whose weights are instantiated from domain weights.

    Theta(h) = S + sum_j alpha_j(h) E_j,    alpha(h) = softmax(MLP(h))

S is the shared parameter set (the parameters of a template atelier Transformer), E_1..E_n an
expert bank of the same size (stored flat, one row per expert), and the router MLP maps
domain weights h on the simplex to the mixing coefficients alpha. A batch shares one h, so a
training step instantiates the weights once (one vector-matrix product over the bank) and runs
the template with them through torch.func.functional_call; gradients reach S, E and the MLP.
``specialist(h)`` returns a standalone Transformer holding Theta(h): the shipped model.

Reconstructed choices (the paper leaves them open or we could not check them): alpha is a
softmax, so Theta(h) is S plus a convex combination of experts and the step size on Theta does
not grow with the number of experts; the experts start small and random (``expert_init_std``),
and the router's output layer starts scaled by ``router_init_scale``, so that alpha(h) is peaked
and differs between mixtures from the first step. With experts at zero and a near-uniform alpha
every expert receives the same Adam update (Adam cancels the alpha_j scale of the gradient
alpha_j dL/dTheta), and the experts stay identical for a long time.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call

from atelier.nn import Transformer, TransformerConfig


class SoupOfExperts(nn.Module):
    """Shared weights S (the template's parameters), an expert bank E [n, P] and a router MLP."""

    def __init__(self, cfg: TransformerConfig, n_domains: int, n_experts: int, router_hidden: int = 64,
                 expert_init_std: float = 0.0, router_init_scale: float = 1.0):
        super().__init__()
        if n_domains < 1 or n_experts < 1 or router_hidden < 1:
            raise ValueError(f"n_domains={n_domains}, n_experts={n_experts} and router_hidden={router_hidden} "
                             "must be positive")
        self.n_domains, self.n_experts = n_domains, n_experts
        self.template = Transformer(cfg)  # its parameters are S
        self.names = [name for name, _ in self.template.named_parameters()]
        self.shapes = [p.shape for p in self.template.parameters()]
        self.sizes = [p.numel() for p in self.template.parameters()]
        self.experts = nn.Parameter(torch.randn(n_experts, sum(self.sizes)) * expert_init_std)  # [n, P]
        self.router = nn.Sequential(nn.Linear(n_domains, router_hidden), nn.GELU(),
                                    nn.Linear(router_hidden, n_experts))
        with torch.no_grad():
            self.router[-1].weight.mul_(router_init_scale)
            self.router[-1].bias.mul_(router_init_scale)

    def _check(self, h: torch.Tensor) -> None:
        if h.shape != (self.n_domains,):
            raise ValueError(f"domain weights h must have shape ({self.n_domains},), got {tuple(h.shape)}")

    def coefficients(self, h: torch.Tensor) -> torch.Tensor:
        """alpha(h) [n] for domain weights h [n_domains]."""
        self._check(h)
        return torch.softmax(self.router(h.to(self.experts.dtype)), dim=-1)

    def instantiate(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        """Theta(h) as a name -> tensor dict for the template (differentiable in S, E, router)."""
        delta = self.coefficients(h) @ self.experts  # [n] @ [n, P] -> [P]
        pieces = delta.split(self.sizes)
        return {name: s + piece.view(shape)
                for name, s, piece, shape in zip(self.names, self.template.parameters(), pieces, self.shapes)}

    def forward(self, tokens: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Logits [B, T, V] of the model instantiated at h (one instantiation for the whole batch)."""
        return functional_call(self.template, self.instantiate(h), (tokens,))

    @torch.no_grad()
    def specialist(self, h: torch.Tensor) -> Transformer:
        """A standalone Transformer with weights Theta(h), in eval mode."""
        model = copy.deepcopy(self.template)
        for param, value in zip(model.parameters(), self.instantiate(h).values()):
            param.copy_(value)
        return model.eval()

    def flops_per_token(self, seq_len: int) -> int:
        """Training FLOPs per token of the instantiated model (the per-step instantiation, a few
        FLOPs per stored weight, is shared by the whole batch and left out)."""
        return self.template.flops_per_token(seq_len)

    def num_params(self) -> dict[str, int]:
        """Stored parameters by part, and the size of one instantiated model."""
        shared = sum(self.sizes)
        router = sum(p.numel() for p in self.router.parameters())
        return {"instantiated": shared, "shared": shared, "experts": self.experts.numel(), "router": router,
                "stored": shared + self.experts.numel() + router}


class SoupLoss:
    """Objective for a soup batch {"tokens": Long[B, T], "h": Float[n_domains]}: the wrapped
    objective (e.g. atelier.train.NextTokenLoss) of the model instantiated at the batch's h."""

    def __init__(self, objective):
        self.objective = objective

    def __call__(self, soup: SoupOfExperts, batch: dict):
        h = batch["h"]
        return self.objective(lambda tokens: soup(tokens, h), batch)

