"""What ranking reads of a result besides its metric values, stored as one binary blob.

Per part of the cases ("all", "public", "private"): every metric on the phase's shared
bootstrap resamples and the per-case scores, as float32 arrays (NaN where undefined) in an
uncompressed .npz. A leaderboard's rank stability reads a few of these for its top entries;
reading one array is a slice of the blob, not the parse of a large JSON document.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import numpy as np

Vectors = Mapping[str, Mapping[str, np.ndarray]]  # part -> metric -> values
KINDS = ("resampled", "case")


def pack(resampled: Vectors, case_scores: Vectors) -> bytes:
    arrays = {}
    for kind, vectors in zip(KINDS, (resampled, case_scores), strict=True):
        for part, by_metric in vectors.items():
            for metric, values in by_metric.items():
                arrays[f"{kind}.{part}.{metric}"] = np.asarray(values, dtype=np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


class StoredVectors:
    """Read access to a packed blob; an absent blob or array reads as None."""

    def __init__(self, blob: bytes | None) -> None:
        self._archive = np.load(io.BytesIO(blob)) if blob else None

    def get(self, kind: str, part: str, metric: str) -> np.ndarray | None:
        if self._archive is None:
            return None
        try:
            return self._archive[f"{kind}.{part}.{metric}"].astype(np.float64)
        except (KeyError, zipfile.BadZipFile):
            return None
