"""Baselines from the lingam package: per-view ICA-LiNGAM and MultiGroupDirectLiNGAM.

ICA-LiNGAM fits each view alone; MultiGroupDirectLiNGAM estimates one order for all views.
Both identify the model only through non-Gaussian disturbances. (The third baseline,
ICA-LiMVAM on MultiViewICA, is ``ica_limvam(X, ica="multiviewica")``.)
"""

from __future__ import annotations

import time
import warnings

import lingam
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from atelier.studies.multiview_causal.limvam import CausalFit


def ica_lingam_per_view(X: np.ndarray, seed: int = 0) -> CausalFit:
    """ICA-LiNGAM on each view separately: one order and one B per view."""
    start = time.perf_counter()
    Bs, orders = [], []
    for view in X:
        model = lingam.ICALiNGAM(random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", FutureWarning)
            model.fit(view.T)  # lingam wants (n_samples, n_features)
        Bs.append(model.adjacency_matrix_)
        orders.append(model.causal_order_)
    B = np.array(Bs)
    return CausalFit(B=B, orders=np.array(orders), W=np.eye(B.shape[1]) - B, seconds=time.perf_counter() - start)


def multigroup_direct_lingam(X: np.ndarray, seed: int = 0) -> CausalFit:
    """MultiGroupDirectLiNGAM: one causal order shared by the views, one B per view."""
    start = time.perf_counter()
    model = lingam.MultiGroupDirectLiNGAM(random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model.fit([view.T for view in X])
    B = np.array(model.adjacency_matrices_)
    order = np.array(model.causal_order_)
    return CausalFit(B=B, orders=np.tile(order, (len(B), 1)), W=np.eye(B.shape[1]) - B,
                     seconds=time.perf_counter() - start)
