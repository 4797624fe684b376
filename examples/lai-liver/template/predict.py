"""Minimal LAI algorithm: a starting point that follows the container contract.

Reads /input/cases.json and each case's images, writes /output/predictions.json.
The "model" is one hand-set rule (malignant lesions restrict diffusion, so they are
brighter than the liver on DWI); replace predict_case() with your own.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

INPUT = Path("/input")
OUTPUT = Path("/output")
DIAGNOSES = ("HCC", "iCCA", "metastasis", "adenoma", "FNH", "haemangioma")
MALIGNANT = ("HCC", "iCCA", "metastasis")


def load(case_dir: Path, name: str) -> np.ndarray:
    return np.asarray(nib.load(str(case_dir / f"{name}.nii.gz")).dataobj, dtype=np.float32)


def predict_case(case_dir: Path) -> dict:
    mask = load(case_dir, "lesion_mask") > 0
    dwi = load(case_dir, "DWI")
    # Surroundings: a box around the lesion, minus the lesion itself.
    idx = np.argwhere(mask)
    lo, hi = np.maximum(idx.min(0) - 3, 0), idx.max(0) + 4
    box = np.zeros_like(mask)
    box[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = True
    ratio = dwi[mask].mean() / max(float(np.median(dwi[box & ~mask])), 1e-3)
    p_malignant = 1.0 / (1.0 + math.exp(-4.0 * (math.log(ratio) - 0.4)))
    # Split each group's probability evenly among its diagnoses (sums to 1).
    probs = {d: (p_malignant if d in MALIGNANT else 1.0 - p_malignant) / 3 for d in DIAGNOSES}
    return {"malignant_probability": p_malignant, "diagnosis_probabilities": probs}


def main() -> int:
    cases = json.loads((INPUT / "cases.json").read_text())
    predictions = []
    for i, case_id in enumerate(cases, 1):
        try:
            result = predict_case(INPUT / case_id)
        except Exception as error:  # one unreadable case must not cost all the others
            print(f"{case_id}: {error}; predicting 0.5", flush=True)
            result = {"malignant_probability": 0.5,
                      "diagnosis_probabilities": {d: 1 / 6 for d in DIAGNOSES}}
        predictions.append({"case_id": case_id, **result})
        print(f"{i}/{len(cases)} {case_id}", flush=True)
    (OUTPUT / "predictions.json").write_text(json.dumps({"predictions": predictions}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
