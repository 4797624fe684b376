"""Synthetic liver-MRI phantom: anatomy, textbook lesion patterns, scanner (centre) effects.

One case = a liver-centred crop with one lesion, imaged in six sequences. Intensities are
modelled as *ratios to liver* per sequence, because that is how radiologists read them
("hyper-enhancing in the arterial phase", "wash-out": darker than liver later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SEQUENCES: tuple[str, ...] = ("T2W", "T1_pre", "T1_arterial", "T1_portal", "T1_delayed", "DWI")
DIAGNOSES: tuple[str, ...] = ("HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma")
MALIGNANT: frozenset[str] = frozenset({"HCC", "iCCA", "metastasis"})
# Rough case mix of a surgical / biopsy-proven lesion series (HCC is the most common).
PREVALENCE: dict[str, float] = {
    "HCC": 0.30, "iCCA": 0.10, "metastasis": 0.18,
    "adenoma": 0.10, "FNH": 0.15, "haemangioma": 0.17,
}
ART = SEQUENCES.index("T1_arterial")

# Physical size of the liver-centred crop at centre spacing factor 1 (mm).
BASE_FOV_MM = np.array([144.0, 144.0, 96.0])

# Tissue signal per sequence, in units of the scanner gain (liver T2W = 1).
LIVER = np.array([1.0, 1.0, 1.15, 1.6, 1.4, 1.0])
SOFT_TISSUE = np.array([0.8, 0.85, 1.05, 1.3, 1.25, 0.55])
FAT = np.array([1.9, 1.8, 1.75, 1.7, 1.7, 0.25])
VESSEL = np.array([0.5, 0.7, 0.95, 2.3, 1.7, 0.25])

# Difficulty knobs, tuned so that a simple radiomics baseline reaches an AUC near 0.85.
CONTRAST_SD = 0.28  # per-case, per-sequence jitter of log(lesion/liver)
ATYPICAL_P = 0.40  # chance that a lesion borrows part of a look-alike's pattern
CONSPICUITY = (0.55, 1.25)  # per-case scaling of all lesion contrasts


@dataclass(frozen=True)
class Pattern:
    """Textbook appearance: lesion/liver signal ratio per sequence (SEQUENCES order)."""

    core: tuple[float, ...]
    rim: tuple[float, ...] | None = None  # None: homogeneous lesion
    rim_inner: tuple[float, ...] = (0.65,) * 6  # normalised radius where the rim starts
    nodular: tuple[float, ...] = (0.0,) * 6  # peripheral nodularity of the rim
    scar: tuple[float, ...] | None = None  # central scar ratios
    scar_p: float = 0.0
    capsule: tuple[float, ...] | None = None  # enhancing pseudo-capsule ratios
    capsule_p: float = 0.0
    heterogeneity: float = 0.05
    lobulation: float = 0.05
    median_diameter_mm: float = 30.0


PATTERNS: dict[str, Pattern] = {
    # Arterial hyper-enhancement, wash-out on portal/delayed, capsule, mosaic.
    "HCC": Pattern(
        core=(1.35, 0.85, 1.55, 0.85, 0.75, 1.5),
        capsule=(1.0, 1.0, 1.0, 1.25, 1.35, 1.0), capsule_p=0.6,
        heterogeneity=0.12, median_diameter_mm=35,
    ),
    # Rim arterial enhancement, progressive central (fibrous) delayed enhancement.
    "iCCA": Pattern(
        core=(1.4, 0.8, 0.8, 0.95, 1.25, 1.6),
        rim=(1.5, 0.8, 1.45, 1.2, 1.1, 1.9),
        lobulation=0.12, median_diameter_mm=50,
    ),
    # Rim enhancement, hypo-enhancing core, strongly restricted diffusion.
    "metastasis": Pattern(
        core=(1.5, 0.75, 0.75, 0.75, 0.8, 1.8),
        rim=(1.6, 0.8, 1.5, 1.2, 1.0, 2.2),
        rim_inner=(0.7,) * 6, lobulation=0.1, median_diameter_mm=25,
    ),
    # Arterial hyper-enhancement, no wash-out (iso/slightly hyper later).
    "adenoma": Pattern(
        core=(1.2, 1.1, 1.45, 1.05, 0.97, 1.15),
        heterogeneity=0.08, median_diameter_mm=35,
    ),
    # Bright homogeneous arterial enhancement, iso later, T2-bright scar enhancing late.
    "FNH": Pattern(
        core=(1.08, 0.95, 1.65, 1.02, 1.0, 1.1),
        scar=(2.0, 0.8, 0.6, 0.85, 1.3, 1.2), scar_p=0.65,
        median_diameter_mm=30,
    ),
    # Very bright T2, peripheral nodular enhancement filling in centripetally.
    "haemangioma": Pattern(
        core=(2.6, 0.7, 0.7, 1.1, 1.3, 1.6),
        rim=(2.6, 0.7, 1.8, 1.6, 1.35, 1.6),
        rim_inner=(0.0, 0.0, 0.8, 0.45, 0.1, 0.0),
        nodular=(0.0, 0.0, 0.6, 0.3, 0.0, 0.0),
        lobulation=0.1, median_diameter_mm=25,
    ),
}

# Which diagnoses are radiological look-alikes (an atypical lesion borrows from one).
LOOK_ALIKES: dict[str, tuple[str, ...]] = {
    "HCC": ("adenoma", "metastasis", "FNH"),
    "iCCA": ("metastasis", "HCC"),
    "metastasis": ("iCCA", "haemangioma", "HCC"),
    "adenoma": ("HCC", "FNH"),
    "FNH": ("adenoma", "HCC"),
    "haemangioma": ("metastasis", "iCCA"),
}


@dataclass(frozen=True)
class Centre:
    """A hospital's scanner: gain, per-sequence weighting, noise, resolution, bias field."""

    name: str
    gain: float
    offset: float
    noise: float  # noise SD relative to liver signal
    spacing_factor: tuple[float, float, float]
    bias: float  # amplitude of the smooth coil-sensitivity field
    arterial_timing: float  # mean bolus timing: <1 early/late arterial, weaker enhancement
    seq_weight: tuple[float, ...] = field(default=(1.0,) * 6)


def _centre(index: int, **kwargs: float | tuple[float, ...]) -> Centre:
    # Per-sequence weights are fixed per centre (not per seed): same hospitals, new patients.
    weights = np.exp(np.random.default_rng(1000 + index).normal(0.0, 0.15, len(SEQUENCES)))
    return Centre(name=f"C{index:02d}", seq_weight=tuple(np.round(weights, 3)), **kwargs)


CENTRES: dict[str, Centre] = {
    c.name: c
    for c in (
        _centre(1, gain=80, offset=0, noise=0.04, spacing_factor=(1.0, 1.0, 1.0),
                bias=0.05, arterial_timing=1.0),
        _centre(2, gain=60, offset=1, noise=0.06, spacing_factor=(1.1, 1.1, 1.25),
                bias=0.10, arterial_timing=0.95),
        _centre(3, gain=110, offset=0, noise=0.035, spacing_factor=(0.9, 0.9, 0.85),
                bias=0.15, arterial_timing=1.05),
        _centre(4, gain=70, offset=1, noise=0.05, spacing_factor=(1.0, 1.0, 1.5),
                bias=0.08, arterial_timing=0.9),
        # Unseen in training: a 3 T site and an older, noisier, thick-slice 1.5 T site.
        _centre(5, gain=140, offset=6, noise=0.045, spacing_factor=(0.85, 0.85, 0.8),
                bias=0.20, arterial_timing=0.65),
        _centre(6, gain=45, offset=0, noise=0.11, spacing_factor=(1.25, 1.25, 1.6),
                bias=0.10, arterial_timing=1.0),
    )
}


@dataclass
class Case:
    volumes: dict[str, np.ndarray]  # sequence -> int16 volume
    mask: np.ndarray  # uint8
    spacing: np.ndarray  # mm per voxel
    diameter_mm: float


def spacing_for(shape: tuple[int, int, int], centre: Centre) -> np.ndarray:
    return BASE_FOV_MM / np.asarray(shape, float) * np.asarray(centre.spacing_factor)


def case_pattern(diagnosis: str, centre: Centre, rng: np.random.Generator) -> dict:
    """The textbook pattern of `diagnosis`, perturbed for this patient and scan."""
    own = PATTERNS[diagnosis]
    core = np.log(own.core)
    rim = np.log(own.rim if own.rim is not None else own.core)
    rim_inner = np.array(own.rim_inner)
    if rng.random() < ATYPICAL_P:
        # Atypical lesion: part-way towards a look-alike (hypovascular HCC, flash-filling
        # haemangioma, ...). This is where the class overlap comes from.
        other = PATTERNS[rng.choice(LOOK_ALIKES[diagnosis])]
        w = rng.uniform(0.3, 0.75)
        core = (1 - w) * core + w * np.log(other.core)
        rim = (1 - w) * rim + w * np.log(other.rim if other.rim is not None else other.core)
        rim_inner = (1 - w) * rim_inner + w * np.array(other.rim_inner)
    gain = rng.uniform(*CONSPICUITY)
    timing = float(np.clip(rng.normal(centre.arterial_timing, 0.2), 0.3, 1.4))
    scale = np.full(len(SEQUENCES), gain)
    scale[ART] *= timing  # a mistimed arterial phase weakens arterial (hyper-)enhancement
    jitter = rng.normal(0.0, CONTRAST_SD, (2, len(SEQUENCES)))
    return {
        "core": np.exp(core * scale + jitter[0]),
        "rim": np.exp(rim * scale + jitter[0] + 0.5 * jitter[1]),
        "rim_inner": np.clip(rim_inner + rng.normal(0, 0.08, len(SEQUENCES)), 0.0, 0.9),
        "nodular": np.array(own.nodular),
        "scar": np.exp(np.log(own.scar) * gain) if own.scar and rng.random() < own.scar_p
        else None,
        "capsule": np.exp(np.log(own.capsule) * gain)
        if own.capsule and rng.random() < own.capsule_p else None,
        "heterogeneity": own.heterogeneity * rng.uniform(0.5, 1.5),
        "lobulation": own.lobulation * rng.uniform(0.3, 1.5),
    }


def _grid(shape: tuple[int, int, int], spacing: np.ndarray) -> list[np.ndarray]:
    axes = [(np.arange(n) - (n - 1) / 2.0) * s for n, s in zip(shape, spacing, strict=True)]
    return np.meshgrid(*axes, indexing="ij", sparse=True)


def _smooth_field(xyz: list[np.ndarray], rng: np.random.Generator, wavelength: tuple) -> np.ndarray:
    """Cheap smooth random texture: a sum of random plane waves (mean 0, SD ~1)."""
    field_ = 0.0
    for _ in range(4):
        k = rng.normal(size=3)
        k *= 2 * np.pi / (np.linalg.norm(k) * rng.uniform(*wavelength))
        phase = k[0] * xyz[0] + k[1] * xyz[1] + k[2] * xyz[2] + rng.uniform(0, 6.3)
        field_ = field_ + np.cos(phase)
    return field_ / np.sqrt(2.0)


def _anatomy(
    xyz: list[np.ndarray], fov: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per-voxel tissue signal (6, X, Y, Z) without the lesion: air, fat, soft tissue, liver."""
    x, y, z = xyz
    half = fov / 2
    # Lateral body wall on the low-x side of the crop (the liver lies against it).
    wall = -half[0] + rng.uniform(0.0, 0.15) * fov[0] + 0.0005 * (y**2)
    fat_end = wall + rng.uniform(6, 14)
    liver_edge = fat_end + rng.uniform(3, 10)
    bx = np.broadcast_to(x, np.broadcast_shapes(x.shape, y.shape, z.shape))
    air = bx < wall
    fat = (bx >= wall) & (bx < fat_end)
    liver = bx >= liver_edge
    # Medial / inferior liver border: an ellipsoid-ish cut leaving some soft tissue.
    cx = half[0] * rng.uniform(0.2, 0.5)
    medial = ((x - cx) / (1.35 * half[0])) ** 2 + (y / (1.2 * half[1])) ** 2 + (
        z / (2.0 * half[2])
    ) ** 2
    liver = liver & (medial < 1.0)
    signal = np.empty((len(SEQUENCES),) + bx.shape)
    # Background liver varies per patient (steatosis, cirrhosis, iron).
    liver_sig = LIVER * np.exp(rng.normal(0.0, 0.07, len(SEQUENCES)))
    for s in range(len(SEQUENCES)):
        signal[s] = np.where(liver, liver_sig[s], SOFT_TISSUE[s])
        signal[s][fat] = FAT[s]
        signal[s][air] = 0.0
    return signal, liver


def _add_vessels(signal, xyz, liver, avoid: np.ndarray, radius: float, rng) -> None:
    """Two roughly cranio-caudal hepatic veins, kept clear of the lesion and its ring."""
    x, y, z = xyz
    for _ in range(2):
        for _attempt in range(10):
            p = np.array([rng.uniform(-40, 40), rng.uniform(-40, 40), 0.0])
            if np.linalg.norm(p[:2] - avoid[:2]) > radius + 18:
                break
        else:
            continue
        d = np.array([rng.normal(0, 0.3), rng.normal(0, 0.3), 1.0])
        d /= np.linalg.norm(d)
        rel = [x - p[0], y - p[1], z - p[2]]
        along = rel[0] * d[0] + rel[1] * d[1] + rel[2] * d[2]
        dist2 = sum((rel[i] - along * d[i]) ** 2 for i in range(3))
        vessel = (dist2 < rng.uniform(2.5, 4.5) ** 2) & liver
        for s in range(len(SEQUENCES)):
            signal[s][vessel] = VESSEL[s]


def simulate_case(
    diagnosis: str, centre: Centre, shape: tuple[int, int, int], rng: np.random.Generator
) -> Case:
    spacing = spacing_for(shape, centre)
    fov = spacing * np.asarray(shape)
    xyz = _grid(shape, spacing)
    signal, liver = _anatomy(xyz, fov, rng)
    pat = case_pattern(diagnosis, centre, rng)

    # Lesion size: log-normal around the diagnosis' typical size, kept inside the crop.
    limit = float(min(fov[0], fov[1], 2 * fov[2]) * 0.55)
    diameter = float(np.clip(
        PATTERNS[diagnosis].median_diameter_mm * np.exp(rng.normal(0, 0.35)), 12.0, limit
    ))
    radius = diameter / 2
    room = np.maximum(fov / 2 - radius - 10.0, 0.0)
    centre_mm = rng.uniform(-1, 1, 3) * room * np.array([0.3, 0.5, 0.4]) + [fov[0] * 0.12, 0, 0]
    _add_vessels(signal, xyz, liver, centre_mm, radius, rng)

    axes = np.exp(rng.normal(0, 0.1, 3))
    axes = radius * axes / np.cbrt(np.prod(axes))
    rel = [xyz[i] - centre_mm[i] for i in range(3)]
    dist = np.sqrt(sum(r**2 for r in rel))
    theta = np.arctan2(rel[1], rel[0])
    cos_phi = rel[2] / np.maximum(dist, 1e-6)
    lob = 1.0 + pat["lobulation"] * np.cos(
        rng.integers(2, 5) * theta + rng.uniform(0, 6.3)
    ) * np.sqrt(1 - cos_phi**2)
    rho = np.sqrt(sum((rel[i] / axes[i]) ** 2 for i in range(3))) / lob

    # Partial-volume weight: soft edge about one voxel wide.
    edge = float(np.mean(spacing)) / radius
    inside = np.clip(0.5 + (1.0 - rho) / edge, 0.0, 1.0)
    w_rim_edge = 0.12
    nodules = np.maximum(0.0, np.cos(5 * theta + rng.uniform(0, 6.3)) * np.cos(
        3 * np.arccos(np.clip(cos_phi, -1, 1)) + rng.uniform(0, 6.3)))
    texture = _smooth_field(rel, rng, (6.0, 16.0))
    shell = np.clip(1 - np.abs(rho - 1.0 - 0.6 * edge) / (0.8 * edge), 0.0, 1.0) * (rho > 1.0)
    scar_w = np.clip((0.28 - rho) / 0.1, 0.0, 1.0)

    for s in range(len(SEQUENCES)):
        w_rim = np.clip((rho - pat["rim_inner"][s]) / w_rim_edge, 0.0, 1.0)
        if pat["nodular"][s] > 0:
            w_rim = w_rim * (1 - pat["nodular"][s] + 2 * pat["nodular"][s] * nodules)
        ratio = pat["core"][s] + (pat["rim"][s] - pat["core"][s]) * np.clip(w_rim, 0, 1.5)
        if pat["scar"] is not None:
            ratio = ratio + (pat["scar"][s] - ratio) * scar_w
        ratio = ratio * (1.0 + pat["heterogeneity"] * texture)
        base = signal[s]
        lesion_sig = LIVER[s] * ratio
        if pat["capsule"] is not None:
            base = base + (LIVER[s] * pat["capsule"][s] - base) * shell * liver
        signal[s] = base * (1 - inside) + lesion_sig * inside

    mask = (rho < 1.0).astype(np.uint8)
    if not mask.any():  # tiny lesion between voxel centres: keep the nearest voxel
        mask[np.unravel_index(np.argmin(rho), rho.shape)] = 1
    volumes = _scan(signal, xyz, fov, centre, rng)
    return Case(volumes=volumes, mask=mask, spacing=spacing, diameter_mm=round(diameter, 1))


def _scan(signal, xyz, fov, centre: Centre, rng) -> dict[str, np.ndarray]:
    """Scanner effects: gain, per-sequence weighting, bias field, Rician noise, int16."""
    x, y, z = (xyz[i] / (fov[i] / 2) for i in range(3))
    coeffs = rng.normal(0, 1, 4) * centre.bias
    bias = np.exp(coeffs[0] * x + coeffs[1] * y + coeffs[2] * z + coeffs[3] * (x * x - y * y))
    out = {}
    for s, name in enumerate(SEQUENCES):
        scale = centre.gain * centre.seq_weight[s] * rng.uniform(0.9, 1.1)
        clean = signal[s] * bias * scale
        sd = centre.noise * scale * (1.8 if name == "DWI" else 1.0)
        # Magnitude images: Rician noise from two Gaussian channels.
        n1 = rng.normal(0, sd, clean.shape)
        n2 = rng.normal(0, sd, clean.shape)
        mag = np.sqrt((clean + n1) ** 2 + n2**2) + centre.offset
        out[name] = np.clip(np.rint(mag), 0, 32767).astype(np.int16)
    return out
