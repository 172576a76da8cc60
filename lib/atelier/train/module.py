"""LanguageModel: the LightningModule around a backbone and an objective.

It owns nothing model-specific: the backbone (any nn.Module, normally atelier.nn.Transformer)
maps tokens to logits, the objective turns (model, batch) into (loss, metrics), the
parameterisation of an atelier Transformer supplies the AdamW parameter groups, and a
TrainConfig sets the optimizer, the LR schedule and gradient clipping. Logged per training
step: ``loss``, ``lr`` (the peak LR times the schedule factor), ``grad_norm`` (before
clipping) and the objective's metrics; per validation: ``val_loss`` and ``val_<metric>``,
averaged over the validation batches.
"""

from __future__ import annotations

import dataclasses

import lightning as L
import torch
from torch.optim.lr_scheduler import LambdaLR

from atelier.nn import Transformer
from atelier.nn import param_groups as transformer_param_groups
from atelier.train.config import TrainConfig
from atelier.train.objectives import Objective


def param_groups(model: torch.nn.Module, config: TrainConfig) -> list[dict]:
    """AdamW groups: per role from the parameterisation of an atelier Transformer, else nanoGPT's.

    For any other model, weight decay applies to parameters with >= 2 dimensions (matmul
    weights and embeddings) and not to gains and biases.
    """
    if isinstance(model, Transformer):
        return transformer_param_groups(model, lr=config.lr, weight_decay=config.weight_decay,
                                        eps=config.eps, betas=config.betas)
    trainable = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in trainable if p.ndim >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0},
    ]


class LanguageModel(L.LightningModule):
    """Trains ``model`` on ``objective`` with AdamW and the schedule of ``config``."""

    def __init__(self, model: torch.nn.Module, objective: Objective, config: TrainConfig):
        super().__init__()
        self.model = model
        self.objective = objective
        # torch.compile traces the objective through the model (an objective may call
        # model.features rather than forward, which compiling the module alone would miss)
        self.train_objective = torch.compile(objective) if config.compile else objective
        self.config = config
        self.schedule = config.lr_schedule()
        self.save_hyperparameters({"train": dataclasses.asdict(config)})

    def forward(self, tokens: torch.Tensor, **kwargs) -> torch.Tensor:
        return self.model(tokens, **kwargs)

    def _sync(self) -> bool:
        return self.trainer.world_size > 1

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss, metrics = self.train_objective(self.model, batch)
        sync = self._sync()
        self.log("loss", loss, sync_dist=sync)
        self.log("lr", self.config.lr * self.schedule(self.global_step))
        for name, value in metrics.items():
            self.log(name, value, sync_dist=sync)
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, metrics = self.objective(self.model, batch)
        size, sync = batch["tokens"].shape[0], self._sync()
        # x-axis of validation rows: updates done (Lightning would use the index of the last batch)
        self.log("step", float(self.global_step), on_step=False, on_epoch=True, batch_size=size)
        self.log("val_loss", loss, on_step=False, on_epoch=True, batch_size=size, sync_dist=sync)
        for name, value in metrics.items():
            self.log(f"val_{name}", value, on_step=False, on_epoch=True, batch_size=size, sync_dist=sync)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        """Clip the global gradient norm to ``config.grad_clip`` and log the norm before clipping."""
        max_norm = self.config.grad_clip if self.config.grad_clip is not None else float("inf")
        wrapped = self.trainer.model
        if hasattr(wrapped, "clip_grad_norm_"):  # FSDP: the norm needs all shards
            norm = wrapped.clip_grad_norm_(max_norm)
        else:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
        self.log("grad_norm", norm)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(
            param_groups(self.model, self.config),
            lr=self.config.lr,
            betas=self.config.betas,
            eps=self.config.eps,
            weight_decay=self.config.weight_decay,
            fused=self.device.type == "cuda",
        )
        scheduler = LambdaLR(optimizer, self.schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
