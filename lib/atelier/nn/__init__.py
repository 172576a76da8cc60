"""The transformer backbone, its attention masks and its parameterisations (SP, muP, CompleteP)."""

from atelier.nn.coord_check import coord_check
from atelier.nn.masks import block_mask
from atelier.nn.model import Transformer, TransformerConfig
from atelier.nn.parameterisation import Parameterisation, Rule, param_groups
from atelier.nn.rope import apply_rope, rope_cache

__all__ = ["Parameterisation", "Rule", "Transformer", "TransformerConfig", "apply_rope", "block_mask",
           "coord_check", "param_groups", "rope_cache"]
