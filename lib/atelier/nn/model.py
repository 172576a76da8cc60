"""The one transformer backbone, configured by a dataclass.

A pre-norm stack of blocks, each x + r * Attention(RMSNorm(x)) then x + r * SwiGLU(RMSNorm(x)),
with rotary positions, optional QK-norm, and attention through
F.scaled_dot_product_attention with a causal, bidirectional, block or arbitrary boolean mask.
The same module serves causal LMs, masked-diffusion models and semi-autoregressive decoders.
How weights are initialised, the residual multiplier r, the attention scale and the logit
multiplier come from a Parameterisation (SP, muP, CompleteP); so do the optimizer groups.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from atelier.nn.masks import NAMED_MASKS, sdpa_mask
from atelier.nn.parameterisation import Parameterisation
from atelier.nn.rope import apply_rope, rope_cache


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int
    width: int  # residual-stream width D
    depth: int  # number of blocks
    n_heads: int
    head_dim: int | None = None  # None: width // n_heads
    mlp_ratio: float = 4.0  # SwiGLU hidden size = round(mlp_ratio * width)
    max_len: int = 512
    norm_eps: float = 1e-6
    qk_norm: bool = False  # RMSNorm on queries and keys (per head) before RoPE
    tie_embeddings: bool = False
    dropout: float = 0.0
    attention: str = "causal"  # default mask: causal | bidirectional
    rope_base: float = 10000.0
    pos_embedding: bool = False  # add a learned absolute position embedding to the token embeddings

    def __post_init__(self):
        for name in ("vocab_size", "width", "depth", "n_heads", "max_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be a positive int")
        if self.head_dim is None and self.width % self.n_heads:
            raise ValueError(f"width={self.width} is not divisible by n_heads={self.n_heads}; set head_dim")
        if self.d_head % 2:
            raise ValueError(f"head dim {self.d_head} must be even for RoPE")
        if self.attention not in NAMED_MASKS:
            raise ValueError(f"attention={self.attention!r}: valid values are {NAMED_MASKS}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout={self.dropout} must lie in [0, 1)")

    @property
    def d_head(self) -> int:
        return self.head_dim or self.width // self.n_heads

    @property
    def mlp_hidden(self) -> int:
        return round(self.mlp_ratio * self.width)


class Attention(nn.Module):
    def __init__(self, cfg: TransformerConfig, scale: float):
        super().__init__()
        self.n_heads, self.d_head, self.scale, self.dropout = cfg.n_heads, cfg.d_head, scale, cfg.dropout
        inner = cfg.n_heads * cfg.d_head
        self.qkv = nn.Linear(cfg.width, 3 * inner, bias=False)
        self.proj = nn.Linear(inner, cfg.width, bias=False)
        self.q_norm = nn.RMSNorm(cfg.d_head, eps=cfg.norm_eps) if cfg.qk_norm else None
        self.k_norm = nn.RMSNorm(cfg.d_head, eps=cfg.norm_eps) if cfg.qk_norm else None
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x, cos, sin, attn_mask, is_causal):
        B, T, _ = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)  # 3 x [B, H, T, hd]
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=self.scale,
                                           dropout_p=self.dropout if self.training else 0.0)  # [B, H, T, hd]
        y = y.transpose(1, 2).reshape(B, T, self.n_heads * self.d_head)
        return self.resid_drop(self.proj(y))


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.gate = nn.Linear(cfg.width, cfg.mlp_hidden, bias=False)
        self.up = nn.Linear(cfg.width, cfg.mlp_hidden, bias=False)
        self.down = nn.Linear(cfg.mlp_hidden, cfg.width, bias=False)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.drop(self.down(F.silu(self.gate(x)) * self.up(x)))


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig, residual_scale: float, attention_scale: float):
        super().__init__()
        self.residual_scale = residual_scale
        self.norm1 = nn.RMSNorm(cfg.width, eps=cfg.norm_eps)
        self.attn = Attention(cfg, attention_scale)
        self.norm2 = nn.RMSNorm(cfg.width, eps=cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, attn_mask, is_causal):
        x = x + self.residual_scale * self.attn(self.norm1(x), cos, sin, attn_mask, is_causal)
        return x + self.residual_scale * self.mlp(self.norm2(x))


class Transformer(nn.Module):
    def __init__(self, cfg: TransformerConfig, parameterisation: Parameterisation | None = None):
        super().__init__()
        p = parameterisation or Parameterisation()
        self.cfg, self.parameterisation = cfg, p
        self.embedding_scale, self.output_scale = p.embedding_scale(cfg), p.output_scale(cfg)
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.width)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.width) if cfg.pos_embedding else None
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(
            Block(cfg, p.residual_scale(cfg), p.attention_scale(cfg)) for _ in range(cfg.depth))
        self.norm = nn.RMSNorm(cfg.width, eps=cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.width, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.tok_emb.weight
        cos, sin = rope_cache(cfg.d_head, cfg.max_len, cfg.rope_base)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.reset_parameters()

    def parameter_roles(self) -> dict[str, str]:
        """Role of every named parameter: embedding, attention, mlp, norm, final_norm, unembedding.
        The parameterisation's rules and the optimizer groups are looked up by role."""
        roles = {}
        for name, _ in self.named_parameters():
            owner = self.get_submodule(name.rsplit(".", 1)[0])
            if owner is self.norm:
                roles[name] = "final_norm"
            elif isinstance(owner, nn.RMSNorm):
                roles[name] = "norm"
            elif owner is self.tok_emb or owner is self.pos_emb:
                roles[name] = "embedding"
            elif owner is self.lm_head:
                roles[name] = "unembedding"
            elif ".attn." in name:
                roles[name] = "attention"
            elif ".mlp." in name:
                roles[name] = "mlp"
            else:
                raise RuntimeError(f"parameter {name} has no role")
        return roles

    @torch.no_grad()
    def reset_parameters(self):
        """Norm gains to 1, every matrix normal with its role's std."""
        rules = self.parameterisation.rules(self.cfg)
        roles = self.parameter_roles()
        for name, param in self.named_parameters():
            std = rules[roles[name]].init
            if std is None:
                param.fill_(1.0)
            else:
                param.normal_(0.0, std)

    def _residual(self, tokens: torch.Tensor, mask, hidden: list | None) -> torch.Tensor:
        """Residual stream after the last block [B, T, D]; appends each block's input and the
        final stream to `hidden` when given."""
        B, T = tokens.shape
        if T > self.cfg.max_len:
            raise ValueError(f"sequence length {T} exceeds max_len={self.cfg.max_len}")
        attn_mask, is_causal = sdpa_mask(self.cfg.attention if mask is None else mask, T)
        cos, sin = self.rope_cos[:T], self.rope_sin[:T]
        x = self.tok_emb(tokens)
        if self.pos_emb is not None:
            x = x + self.pos_emb.weight[:T]  # [T, D] broadcast over the batch
        x = self.drop(x * self.embedding_scale)
        for block in self.blocks:
            if hidden is not None:
                hidden.append(x)
            x = block(x, cos, sin, attn_mask, is_causal)
        if hidden is not None:
            hidden.append(x)
        return x

    def features(self, tokens: torch.Tensor, mask=None) -> torch.Tensor:
        """Final normed hidden states [B, T, D], before the unembedding."""
        return self.norm(self._residual(tokens, mask, None))

    def unembed(self, h: torch.Tensor) -> torch.Tensor:
        """Logits [..., V] of hidden states [..., D] (output multiplier included)."""
        return self.lm_head(h * self.output_scale)

    def forward(self, tokens: torch.Tensor, mask=None, return_hidden: bool = False):
        """Logits [B, T, V] of tokens Long[B, T].

        mask: None (cfg.attention), "causal", "bidirectional", or a Bool tensor (True = may
        attend) of shape [T, T], [B, 1, T, T] or [B, 1, 1, T]. With return_hidden, also the
        residual stream at the input of every block and after the last one (depth + 1 tensors
        [B, T, D], before the final norm), from the same forward.
        """
        hidden = [] if return_hidden else None
        logits = self.unembed(self.norm(self._residual(tokens, mask, hidden)))
        return (logits, hidden) if return_hidden else logits

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameter count; non_embedding leaves out the embedding (token and position) and
        unembedding matrices."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.tok_emb.weight.numel() + (self.pos_emb.weight.numel() if self.pos_emb is not None else 0)
            if not self.cfg.tie_embeddings:
                n -= self.lm_head.weight.numel()
        return n

    def flops_per_token(self, seq_len: int) -> int:
        """Training FLOPs per token: 6 per weight of every matmul (blocks and unembedding) plus
        attention scores and values, 12 * depth * n_heads * d_head * seq_len (PaLM, App. B)."""
        cfg = self.cfg
        matmul_params = self.num_params(non_embedding=True) + cfg.vocab_size * cfg.width
        return 6 * matmul_params + 12 * cfg.depth * cfg.n_heads * cfg.d_head * seq_len
