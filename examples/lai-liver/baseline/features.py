"""Radiomics-style lesion features for the LAI baseline (pure numpy + nibabel).

Every intensity feature is a log-ratio to the surrounding liver, because absolute MR
signal means nothing across scanners: a centre's gain and weighting cancel out, which is
what lets the model travel to centres it never saw. Runs on numpy 1.24 and 2.x.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

SEQUENCES: tuple[str, ...] = ("T2W", "T1_pre", "T1_arterial", "T1_portal", "T1_delayed", "DWI")
MASK = "lesion_mask"
# Pairs (later, earlier) whose lesion-to-liver change describes the enhancement kinetics.
PHASE_PAIRS: tuple[tuple[str, str], ...] = (
    ("T1_arterial", "T1_pre"),
    ("T1_portal", "T1_arterial"),
    ("T1_delayed", "T1_portal"),
    ("T1_delayed", "T1_arterial"),
)
RING_MM = (3.0, 10.0)  # surrounding-liver ring: from 3 mm (past partial volume) to 10 mm
_EPS = 1e-3


class FeatureError(ValueError):
    """A case cannot be described (missing file, empty mask, mismatched shapes)."""


def load_case(case_dir: Path) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Volumes per sequence (float32), the boolean lesion mask and the voxel spacing (mm)."""
    case_dir = Path(case_dir)
    mask_path = case_dir / f"{MASK}.nii.gz"
    if not mask_path.is_file():
        raise FeatureError(f"{case_dir.name}: missing {mask_path.name}")
    mask_img = nib.load(str(mask_path))
    mask = np.asarray(mask_img.dataobj) > 0
    spacing = np.asarray(mask_img.header.get_zooms()[:3], float)
    if not mask.any():
        raise FeatureError(f"{case_dir.name}: the lesion mask is empty")
    volumes = {}
    for name in SEQUENCES:
        path = case_dir / f"{name}.nii.gz"
        if not path.is_file():
            raise FeatureError(f"{case_dir.name}: missing {path.name}")
        data = nib.load(str(path)).get_fdata(dtype=np.float32)
        if data.shape != mask.shape:
            raise FeatureError(f"{case_dir.name}: {name} shape {data.shape} != mask {mask.shape}")
        volumes[name] = data
    return volumes, mask, spacing


def _dilate(mask: np.ndarray, radius_vox: tuple[int, ...]) -> np.ndarray:
    """Binary dilation with a box, as separable running maxima (no scipy needed)."""
    out = mask.copy()
    for axis, r in enumerate(radius_vox):
        if r <= 0:
            continue
        src = out.copy()
        for step in range(1, r + 1):
            lo = [slice(None)] * out.ndim
            hi = [slice(None)] * out.ndim
            lo[axis], hi[axis] = slice(0, -step), slice(step, None)
            out[tuple(lo)] |= src[tuple(hi)]
            out[tuple(hi)] |= src[tuple(lo)]
    return out


def _radius_vox(mm: float, spacing: np.ndarray) -> tuple[int, ...]:
    return tuple(int(max(1, round(mm / s))) for s in spacing)


def regions(mask: np.ndarray, spacing: np.ndarray) -> dict[str, np.ndarray]:
    """Lesion core and rim, a thin outer shell (capsule) and the surrounding-liver ring."""
    volume_mm3 = mask.sum() * float(np.prod(spacing))
    radius = float(np.cbrt(3 * volume_mm3 / (4 * np.pi)))
    # Core: mask voxels far from the edge (erosion = dilation of the complement).
    core = mask & ~_dilate(~mask, _radius_vox(0.4 * radius, spacing))
    if not core.any():  # small lesion: the voxels nearest its centroid
        idx = np.argwhere(mask)
        d = np.linalg.norm((idx - idx.mean(0)) * spacing, axis=1)
        core = np.zeros_like(mask)
        sel = idx[d <= max(d.min(), 0.5 * radius)]
        core[tuple(sel.T)] = True
    rim = mask & ~core
    if not rim.any():
        rim = mask
    near = _dilate(mask, _radius_vox(RING_MM[0], spacing))
    far = _dilate(mask, _radius_vox(RING_MM[1], spacing))
    shell = _dilate(mask, (1, 1, 1)) & ~mask
    return {"core": core, "rim": rim, "shell": shell, "ring": far & ~near, "radius_mm": radius}


def _log_ratio(a: float, b: float) -> float:
    return float(np.log((max(a, 0.0) + _EPS) / (max(b, 0.0) + _EPS)))


def extract(volumes: dict[str, np.ndarray], mask: np.ndarray, spacing: np.ndarray) -> dict:
    """Feature name -> float for one case (fixed names and order)."""
    reg = regions(mask, spacing)
    feats: dict[str, float] = {"diameter_mm": 2 * reg["radius_mm"]}
    lesion_to_liver = {}
    for name in SEQUENCES:
        vol = volumes[name]
        ring = vol[reg["ring"]]
        # Median of the ring ignores vessels and body-wall fat that the ring may clip.
        liver = float(np.median(ring)) if ring.size else float(np.median(vol))
        lesion = vol[mask]
        p10, p50, p90 = np.percentile(lesion, [10, 50, 90])
        core = float(vol[reg["core"]].mean())
        rim = float(vol[reg["rim"]].mean())
        mean = float(lesion.mean())
        feats[f"{name}_mean"] = _log_ratio(mean, liver)
        feats[f"{name}_p10"] = _log_ratio(p10, liver)
        feats[f"{name}_p50"] = _log_ratio(p50, liver)
        feats[f"{name}_p90"] = _log_ratio(p90, liver)
        feats[f"{name}_cv"] = float(lesion.std() / (abs(mean) + _EPS))
        feats[f"{name}_core"] = _log_ratio(core, liver)
        feats[f"{name}_rim"] = _log_ratio(rim, liver)
        feats[f"{name}_rim_core"] = _log_ratio(rim, core)
        shell = vol[reg["shell"]]
        feats[f"{name}_shell"] = _log_ratio(float(shell.mean()), liver) if shell.size else 0.0
        lesion_to_liver[name] = feats[f"{name}_mean"]
    for later, earlier in PHASE_PAIRS:
        feats[f"enh_{later}_vs_{earlier}"] = lesion_to_liver[later] - lesion_to_liver[earlier]
        feats[f"rimcore_{later}_vs_{earlier}"] = (
            feats[f"{later}_rim_core"] - feats[f"{earlier}_rim_core"]
        )
    return feats


def case_features(case_dir: Path) -> dict:
    volumes, mask, spacing = load_case(case_dir)
    return extract(volumes, mask, spacing)


def feature_names() -> list[str]:
    """The names extract() returns, in order (computed on a tiny synthetic case)."""
    mask = np.zeros((9, 9, 9), bool)
    mask[3:6, 3:6, 3:6] = True
    volumes = {name: np.ones(mask.shape, np.float32) for name in SEQUENCES}
    return list(extract(volumes, mask, np.ones(3)))
