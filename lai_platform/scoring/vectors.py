"""What ranking reads of a result besides its metric values, stored as one binary blob.

Per part of the cases ("all", "public", "private"): every metric on the phase's shared
bootstrap resamples and the per-case scores, as float32 arrays (NaN where undefined).
The blob is a small JSON index followed by the raw arrays, so reading one array is a slice,
not the parse of a large JSON document (rank stability reads a few for its top entries).

    b"LAIV1" | index length (4 bytes, little-endian) | JSON {name: [offset, count]} | float32s
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping

import numpy as np

Vectors = Mapping[str, Mapping[str, np.ndarray]]  # part -> metric -> values
KINDS = ("resampled", "case")
MAGIC = b"LAIV1"


def pack(resampled: Vectors, case_scores: Vectors) -> bytes:
    index, arrays, offset = {}, [], 0
    for kind, vectors in zip(KINDS, (resampled, case_scores), strict=True):
        for part, by_metric in vectors.items():
            for metric, values in by_metric.items():
                array = np.asarray(values, dtype="<f4")
                index[f"{kind}.{part}.{metric}"] = [offset, len(array)]
                arrays.append(array.tobytes())
                offset += array.nbytes
    header = json.dumps(index, separators=(",", ":")).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + b"".join(arrays)


class StoredVectors:
    """Read access to a packed blob; an absent blob or array reads as None."""

    def __init__(self, blob: bytes | None) -> None:
        self._blob = blob
        self._index: dict[str, list[int]] = {}
        self._start = 0
        if blob and blob.startswith(MAGIC):
            (length,) = struct.unpack_from("<I", blob, len(MAGIC))
            self._start = len(MAGIC) + 4 + length
            self._index = json.loads(blob[len(MAGIC) + 4:self._start])

    def get(self, kind: str, part: str, metric: str) -> np.ndarray | None:
        where = self._index.get(f"{kind}.{part}.{metric}")
        if where is None:
            return None
        offset, count = where
        return np.frombuffer(self._blob, dtype="<f4", count=count,
                             offset=self._start + offset).astype(np.float64)
