"""The scored data: truth and predictions as aligned arrays, one row per case."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluator.ground_truth import GroundTruth
from evaluator.validation import Predictions

# A case is predicted malignant when its malignant_probability is at least this.
MALIGNANT_THRESHOLD = 0.5


# eq=False: the numpy array fields make generated __eq__/__hash__ meaningless.
@dataclass(frozen=True, eq=False)
class Cases:
    malignant: np.ndarray  # (n,) int 0/1, truth
    malignant_probability: np.ndarray  # (n,) float
    diagnosis: np.ndarray  # (n,) int index into ``classes``, truth
    diagnosis_probabilities: np.ndarray  # (n, k) float
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.malignant)

    @property
    def predicted_malignant(self) -> np.ndarray:
        return (self.malignant_probability >= MALIGNANT_THRESHOLD).astype(np.int64)

    @property
    def predicted_diagnosis(self) -> np.ndarray:
        # argmax: ties go to the first class in ``classes`` order.
        return np.argmax(self.diagnosis_probabilities, axis=1)

    def take(self, indices: np.ndarray) -> Cases:
        """The cases at ``indices`` (a subset, or a resample with repeats)."""
        return Cases(
            malignant=self.malignant[indices],
            malignant_probability=self.malignant_probability[indices],
            diagnosis=self.diagnosis[indices],
            diagnosis_probabilities=self.diagnosis_probabilities[indices],
            classes=self.classes,
        )


def cases_from(predictions: Predictions, ground_truth: GroundTruth) -> Cases:
    """Join validated predictions with the ground truth they were validated against."""
    if predictions.case_ids != ground_truth.case_ids or predictions.classes != ground_truth.classes:
        raise ValueError("predictions were not validated against this ground truth")
    index = {label: i for i, label in enumerate(ground_truth.classes)}
    return Cases(
        malignant=np.asarray(ground_truth.malignant, dtype=np.int64),
        malignant_probability=np.asarray(predictions.malignant_probability, dtype=np.float64),
        diagnosis=np.array([index[label] for label in ground_truth.diagnosis], dtype=np.int64),
        diagnosis_probabilities=np.asarray(predictions.diagnosis_probabilities, dtype=np.float64),
        classes=ground_truth.classes,
    )
