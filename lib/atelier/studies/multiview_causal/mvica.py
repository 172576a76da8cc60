"""MultiViewICA (Richard et al. 2020) from the `multiviewica` package, when it imports.

MultiViewICA assumes noise of the same variance in every view, so it cannot use variance
diversity to separate Gaussian components; it is the ICA step of a baseline ICA-LiMVAM. The
package needs fastsrm and python-picard, which are optional here.
"""

from __future__ import annotations

import warnings

import numpy as np


def multiviewica_status() -> str:
    """'' when `multiviewica` imports, else why it does not."""
    try:
        import multiviewica  # noqa: F401
    except ImportError as err:
        return f"multiviewica does not import ({err}); it needs fastsrm and python-picard"
    return ""


def multiviewica_unmixing(X: np.ndarray, seed: int = 0, max_iter: int = 1000, tol: float = 1e-3) -> np.ndarray:
    """Unmixing matrices (m, p, p) of MultiViewICA on X (m, p, n)."""
    reason = multiviewica_status()
    if reason:
        raise ImportError(reason)
    from multiviewica import multiviewica

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, W, _ = multiviewica(X, max_iter=max_iter, tol=tol, random_state=seed)
    return W
