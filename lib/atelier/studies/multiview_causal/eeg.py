"""A simulated EEG study with MNE, offline: causal graphs between brain regions.

Each subject is a view. Region activity follows the multi-view SEM of ``sem.py`` (a graph
shared by the subjects, subject-specific weights and noise variances). Each region is a patch
of a few radially oriented dipoles whose activity is projected to the 10-20 EEG sensors of
MNE's ``standard_1020`` montage by a three-shell spherical head model
(``mne.make_sphere_model``); white sensor noise is added. The inverse uses a different source
space, a regular volume grid inside the sphere (``mne.setup_volume_source_space(sphere=...)``),
with a free-orientation minimum-norm estimate (``mne.minimum_norm``); a region's time course is
the mean radial component over the grid points within ``region_radius_mm`` of its centre.
Simulating on patches and inverting on a grid avoids the "inverse crime", so the recovered
region signals carry the cross-talk of a real minimum-norm estimate. No file is downloaded:
the montage and the sphere model ship with MNE.
"""

from __future__ import annotations

import dataclasses

import mne
import numpy as np

# region name, azimuth from +x (right) towards +y (nose), elevation above the sphere's equator
REGIONS = (
    ("R frontal", 50, 35), ("L frontal", 130, 35), ("R temporal", 0, 5), ("L temporal", 180, 5),
    ("R parietal", -55, 45), ("L parietal", -125, 45), ("occipital", -90, 15), ("vertex", 90, 75),
)
DIPOLE_MOMENT = 10e-9  # A.m per dipole for unit region activity (10 nAm)


@dataclasses.dataclass
class EEGModel:
    """Head model, sensors, region patches and the inverse operator shared by the subjects."""

    names: list[str]
    info: mne.Info  # EEG sensors with an average-reference projector
    centres: np.ndarray  # (R, 3) region centres, head coordinates in metres
    origin: np.ndarray  # (3,) sphere centre
    gain: np.ndarray  # (n_channels, R) sensor potential of unit activity of each region patch
    noise_std: float  # V, white sensor noise
    inverse: object  # mne.minimum_norm.InverseOperator on the volume grid
    grid: np.ndarray  # (n_grid, 3) positions of the inverse's source points
    members: list[np.ndarray]  # grid indices of each region


def _directions(n_regions: int) -> np.ndarray:
    if not 2 <= n_regions <= len(REGIONS):
        raise ValueError(f"n_regions={n_regions} must be between 2 and {len(REGIONS)}")
    az, el = np.deg2rad(np.array([r[1:] for r in REGIONS[:n_regions]], dtype=float)).T
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)


def sensor_info(sfreq: float = 100.0) -> mne.Info:
    """The 94 EEG channels of the standard 10-20 montage."""
    montage = mne.channels.make_standard_montage("standard_1020")
    info = mne.create_info(montage.ch_names, sfreq=sfreq, ch_types="eeg")
    info.set_montage(montage)
    return info


def _radial(points: np.ndarray, origin: np.ndarray) -> np.ndarray:
    d = points - origin
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _forward(info: mne.Info, src, sphere) -> mne.Forward:
    return mne.make_forward_solution(info, trans=None, src=src, bem=sphere, eeg=True, meg=False, verbose=False)


def build_model(
    rng: np.random.Generator, n_regions: int, dipoles_per_region: int = 5, eccentricity: float = 0.6,
    patch_std_mm: float = 5.0, grid_mm: float = 15.0, region_radius_mm: float = 20.0,
    snr: float = 3.0, sfreq: float = 100.0,
) -> EEGModel:
    """Sensors, sphere head model, region patches, volume grid and minimum-norm inverse.

    ``snr`` sets the white sensor noise as rms(signal of unit region activity) / snr.
    """
    directions = _directions(n_regions)  # (R, 3) unit vectors
    mne.set_log_level("ERROR")
    info = sensor_info(sfreq)
    sphere = mne.make_sphere_model(r0="auto", head_radius="auto", info=info, verbose=False)
    origin = np.asarray(sphere["r0"])
    centres = origin + eccentricity * sphere.radius * directions  # (R, 3)

    # simulation: a patch of radial dipoles per region, fixed orientation
    dipoles = (centres[:, None, :] + 1e-3 * patch_std_mm * rng.standard_normal((n_regions, dipoles_per_region, 3)))
    rr = dipoles.reshape(-1, 3)  # (R * d, 3)
    patches = mne.setup_volume_source_space(pos=dict(rr=rr, nn=_radial(rr, origin)), sphere=sphere, verbose=False)
    fwd = mne.convert_forward_solution(_forward(info, patches, sphere), surf_ori=True, force_fixed=True,
                                       verbose=False)
    gain = DIPOLE_MOMENT * fwd["sol"]["data"].reshape(len(info.ch_names), n_regions, dipoles_per_region).sum(axis=2)
    # average reference, as the inverse requires
    gain = gain - gain.mean(axis=0)
    noise_std = float(np.sqrt(np.mean(gain ** 2)) / snr)

    # inverse: free-orientation minimum norm on a volume grid
    grid_src = mne.setup_volume_source_space(pos=grid_mm, sphere=sphere, mindist=5.0, verbose=False)
    info_ref = mne.io.RawArray(np.zeros((len(info.ch_names), 1)), info, verbose=False)
    info_ref.set_eeg_reference(projection=True, verbose=False)
    cov = mne.make_ad_hoc_cov(info_ref.info, std=dict(eeg=noise_std), verbose=False)
    inverse = mne.minimum_norm.make_inverse_operator(info_ref.info, _forward(info, grid_src, sphere), cov,
                                                     loose=1.0, verbose=False)
    grid = grid_src[0]["rr"][grid_src[0]["vertno"]]
    members = [np.flatnonzero(np.linalg.norm(grid - c, axis=1) < 1e-3 * region_radius_mm) for c in centres]
    if any(m.size == 0 for m in members):
        raise ValueError(f"region_radius_mm={region_radius_mm} is below the grid spacing {grid_mm} mm")
    names = [r[0] for r in REGIONS[:n_regions]]
    return EEGModel(names, info_ref.info, centres, origin, gain, noise_std, inverse, grid, members)


def sensors(model: EEGModel, activity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """EEG (m, n_channels, n) of region activity (m, R, n), with white sensor noise."""
    clean = np.einsum("cr,irt->ict", model.gain, activity)
    return clean + model.noise_std * rng.standard_normal(clean.shape)


def region_time_courses(model: EEGModel, eeg: np.ndarray, snr: float) -> np.ndarray:
    """Minimum-norm estimate of each region's activity, (m, R, n), from EEG (m, n_channels, n)."""
    out = []
    for subject in eeg:
        raw = mne.io.RawArray(subject, model.info, verbose=False)
        stc = mne.minimum_norm.apply_inverse_raw(raw, model.inverse, lambda2=1.0 / snr ** 2, method="MNE",
                                                 pick_ori="vector", verbose=False)  # data (n_grid, 3, n)
        out.append([
            np.einsum("sc,sct->t", _radial(model.grid[idx], model.origin), stc.data[idx]) / idx.size
            for idx in model.members
        ])
    return np.array(out)
