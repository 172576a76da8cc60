"""Study 01, tri-modal masked diffusion: scaling laws, mixing, noise schedules, batch size, sampling.

Reproduces at small scale the systematic study of a masked discrete diffusion model pretrained
from scratch on text, image-text and audio-text in one token stream (arXiv 2602.21472): one
bidirectional transformer under CompleteP (models), the masked-diffusion NELBO split by modality
(evaluation), WSD runs whose budgets branch off one constant-LR run (training), a scaling grid
and per-modality laws (scaling), mixing / schedule / batch-size sweeps with the SDE rule
(sweeps), whether captions shape images (binding), and sampling defaults with sample galleries
(sampling, gallery).
"""

from atelier.studies.trimodal_diffusion.binding import caption_binding
from atelier.studies.trimodal_diffusion.charts import (bars_chart, batch_chart, image_grid_chart, iso_flop_chart,
                                                       sampler_chart, scaling_chart, spectrogram_chart)
from atelier.studies.trimodal_diffusion.claims import claims
from atelier.studies.trimodal_diffusion.config import BALANCED, Config
from atelier.studies.trimodal_diffusion.data import StudyData, build_data, eval_batches, stream, text_documents
from atelier.studies.trimodal_diffusion.evaluation import GROUPS, modality_losses
from atelier.studies.trimodal_diffusion.gallery import caption_gallery, image_gallery, speech_gallery, text_gallery
from atelier.studies.trimodal_diffusion.layout import CanvasVocab
from atelier.studies.trimodal_diffusion.models import build_model, parameterisation
from atelier.studies.trimodal_diffusion.sampling import (audio_hits, choose_default, continuation_perplexity,
                                                         image_diversity, image_hits, paired_margin, sampler_grid,
                                                         versus_random, within_class_spread)
from atelier.studies.trimodal_diffusion.scaling import (fit_laws, iso_flop_curves, monotonicity, replicate_mean,
                                                       replicate_seeds, scaling_grid)
from atelier.studies.trimodal_diffusion.sweeps import (batch_sizes, mixing, mixture_name, noise_schedules,
                                                       sampling_model, spread, sweep_baseline)
from atelier.studies.trimodal_diffusion.training import Trained, diffusion_objective, train_budgets, train_config

__all__ = [
    "BALANCED", "GROUPS", "CanvasVocab", "Config", "StudyData", "Trained", "audio_hits", "bars_chart", "batch_chart",
    "batch_sizes", "build_data", "build_model", "caption_binding", "caption_gallery", "choose_default", "claims",
    "continuation_perplexity", "diffusion_objective", "eval_batches", "fit_laws", "image_diversity", "image_hits", "image_gallery", "image_grid_chart",
    "iso_flop_chart", "iso_flop_curves", "mixing", "mixture_name", "modality_losses", "monotonicity", "noise_schedules",
    "paired_margin", "parameterisation", "replicate_mean", "replicate_seeds", "sampler_chart", "sampler_grid", "sampling_model", "scaling_chart", "scaling_grid", "speech_gallery",
    "spectrogram_chart", "spread", "sweep_baseline", "stream", "text_documents", "text_gallery", "train_budgets", "train_config",
    "versus_random", "within_class_spread",
]
