"""Rank statistics (AUC, sensitivity at a specificity) for many weightings of the same cases.

The weights are kept case-major, as ``Columns``: row i holds case i's count in every sample,
so putting the cases in score order is a cheap gather of whole rows. The order is then cut
into blocks of ``_BLOCK`` cases. The weighted Mann-Whitney sum over pairs (positive i,
negative j) of w_i w_j [s_j < s_i, 1/2 when equal] splits into pairs inside one block (a small
matrix product per block, the pair kernel built from the scores themselves, so ties inside a
block are exact) and pairs across blocks (block sums and a prefix over the blocks). Among equal
scores the positives are put first, so a negative in an earlier block always scores strictly
lower; equal-score pairs with the positive in an earlier block are added back per tie group.

Counts are small integers, so the sums are exact in float32 when the bounds in
``Columns.from_weights`` hold (float64 otherwise): the results equal the plain cumulative-sum
computation exactly, not merely to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BLOCK = 16
# float32 holds integers exactly below 2**24; within one block a sum of products of counts
# stays below _BLOCK**2 * _MAX_COUNT32**2 = 2**22 (halves included), and sums over all cases
# are checked against _MAX_TOTAL32.
_MAX_COUNT32 = 128
_MAX_TOTAL32 = 2**23


@dataclass(frozen=True, eq=False)
class Columns:
    """(n + 1, B) weights, case-major; the last row is zeros (padding for the blocks)."""

    data: np.ndarray

    @classmethod
    def from_weights(cls, weights: np.ndarray, *, integral: bool | None = None) -> Columns:
        """From (B, n) weights; ``integral`` says they are whole counts (checked if None)."""
        weights = np.asarray(weights, dtype=np.float64)
        n_samples, n = weights.shape
        if integral is None:
            integral = bool(np.all(weights == np.floor(weights)))
        exact32 = weights.size == 0 or (
            integral
            and weights.min() >= 0
            and weights.max() <= _MAX_COUNT32
            and weights.sum(axis=1).max() < _MAX_TOTAL32
        )
        data = np.zeros((n + 1, n_samples), dtype=np.float32 if exact32 else np.float64)
        data[:n] = weights.T
        return cls(data)

    @property
    def n_cases(self) -> int:
        return self.data.shape[0] - 1

    @property
    def n_samples(self) -> int:
        return self.data.shape[1]

    def cell_sums(self, cells: np.ndarray, n_cells: int) -> np.ndarray:
        """(B, n_cells) float64 total weight of the cases in each cell (``cells`` (n,) ints).

        Exact for whole counts: float32 sums stay below 2**24 (see ``from_weights``)."""
        cells = np.asarray(cells, dtype=np.intp)
        order = np.argsort(cells, kind="stable")
        bounds = np.searchsorted(cells[order], np.arange(n_cells + 1))
        grouped = self.data[order]
        sums = np.zeros((n_cells, self.n_samples))
        for cell in np.flatnonzero(bounds[1:] > bounds[:-1]):
            sums[cell] = grouped[bounds[cell] : bounds[cell + 1]].sum(axis=0)
        return sums.T


@dataclass(frozen=True, eq=False)
class _Sorted:
    """The weights in score order (positives first among ties), cut into blocks."""

    x: np.ndarray  # (blocks, _BLOCK, B) weights
    scores: np.ndarray  # (n,) sorted
    positive: np.ndarray  # (blocks, _BLOCK) bool; padding is neither positive nor negative
    negative: np.ndarray
    block_sums: np.ndarray  # (blocks, 2, B) float64: positive, negative weight per block

    @classmethod
    def of(cls, columns: Columns, scores: np.ndarray, positive: np.ndarray) -> _Sorted:
        n = columns.n_cases
        positive = np.asarray(positive, dtype=bool)
        order = np.lexsort((~positive, scores))  # by score; positives first among equals
        n_blocks = -(-n // _BLOCK)
        rows = np.full(n_blocks * _BLOCK, n)  # row n is the zero row
        rows[:n] = order
        x = columns.data[rows].reshape(n_blocks, _BLOCK, columns.n_samples)
        is_positive = np.zeros(n_blocks * _BLOCK, dtype=bool)
        is_positive[:n] = positive[order]
        is_negative = np.zeros(n_blocks * _BLOCK, dtype=bool)
        is_negative[:n] = ~positive[order]
        is_positive = is_positive.reshape(n_blocks, _BLOCK)
        is_negative = is_negative.reshape(n_blocks, _BLOCK)
        masks = np.stack([is_positive, is_negative], axis=1).astype(x.dtype)
        block_sums = np.matmul(masks, x).astype(np.float64)
        return cls(x, scores[order], is_positive, is_negative, block_sums)

    def pair_wins(self) -> np.ndarray:
        """(B,) sum over (positive, negative) pairs of their weights x [s_j < s_i, 1/2 if =]."""
        n = len(self.scores)
        padded = np.zeros(self.positive.size)
        padded[:n] = self.scores
        s = padded.reshape(self.positive.shape)
        # kernel[I, i, j] for row i (positive) and column j (negative) of block I.
        step = (s[:, None, :] < s[:, :, None]) + 0.5 * (s[:, None, :] == s[:, :, None])
        kernel = (self.positive[:, :, None] & self.negative[:, None, :]) * step
        inner = np.matmul(kernel.astype(self.x.dtype), self.x)
        within = np.einsum("imb,imb->ib", inner, self.x).astype(np.float64).sum(axis=0)
        positives, negatives = self.block_sums[:, 0], self.block_sums[:, 1]
        negatives_before = np.cumsum(negatives, axis=0) - negatives
        across = np.einsum("ib,ib->b", positives, negatives_before)
        return within + across + self._straddling_ties()

    def _straddling_ties(self) -> np.ndarray:
        """Half of each equal-score pair whose positive is in an earlier block than its negative.

        Inside a tie group the positives come first, at [start, middle), then the negatives.
        """
        n = len(self.scores)
        total = np.zeros(self.x.shape[2])
        starts = np.flatnonzero(np.r_[True, self.scores[1:] != self.scores[:-1]])
        ends = np.r_[starts[1:], n]
        straddle = (starts // _BLOCK) != ((ends - 1) // _BLOCK)
        if not straddle.any():
            return total
        flat = self.x.reshape(-1, self.x.shape[2])
        n_positive = np.cumsum(np.r_[0, self.positive.ravel()[:n]])
        for start, end in zip(starts[straddle], ends[straddle], strict=True):
            middle = start + int(n_positive[end] - n_positive[start])
            if middle in (start, end):  # all positive or all negative: no pairs
                continue
            pairs = _row_sum(flat, start, middle) * _row_sum(flat, middle, end)
            block = middle // _BLOCK
            if (middle - 1) // _BLOCK == block:  # pairs inside that block are in the kernel
                first, last = block * _BLOCK, (block + 1) * _BLOCK
                pairs -= _row_sum(flat, max(start, first), middle) * _row_sum(
                    flat, middle, min(end, last)
                )
            total += 0.5 * pairs
        return total


def _row_sum(flat: np.ndarray, start: int, end: int) -> np.ndarray:
    return flat[start:end].sum(axis=0, dtype=np.float64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    defined = denominator > 0
    return np.where(defined, numerator / np.where(defined, denominator, 1.0), np.nan)


def auc(columns: Columns, scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """(B,) weighted ROC AUC; NaN where a sample has no positive or no negative weight."""
    if columns.n_cases == 0:
        return np.full(columns.n_samples, np.nan)
    return _auc(_Sorted.of(columns, scores, positive))


def _auc(ordered: _Sorted) -> np.ndarray:
    positives = ordered.block_sums[:, 0].sum(axis=0)
    negatives = ordered.block_sums[:, 1].sum(axis=0)
    return _ratio(ordered.pair_wins(), positives * negatives)


def auc_and_sens_at_spec(
    columns: Columns, scores: np.ndarray, positive: np.ndarray, min_specificity: float, slack: float
) -> tuple[np.ndarray, np.ndarray]:
    """(B,) AUC and (B,) highest sensitivity at specificity >= ``min_specificity``, from one
    sort: see ``roc_points.weighted_sens_at_spec`` for the definition."""
    n_samples = columns.n_samples
    if columns.n_cases == 0:
        return np.full(n_samples, np.nan), np.full(n_samples, np.nan)
    ordered = _Sorted.of(columns, scores, positive)
    return _auc(ordered), _sens_at_spec(ordered, min_specificity, slack)


def _sens_at_spec(ordered: _Sorted, min_specificity: float, slack: float) -> np.ndarray:
    """With thresholds t (positive when score >= t), false positives FP(t) fall as t rises;
    the allowed t are those above u, the highest drawn negative score whose FP(u) is over the
    limit, so the best sensitivity counts the positives scoring above u. In positives-first
    score order, FP at position r is the negative weight from r on, and u sits at the last
    position where that exceeds the limit; the positives above u are those after it."""
    x = ordered.x
    n_samples = x.shape[2]
    positives_by_block, negatives_by_block = ordered.block_sums[:, 0], ordered.block_sums[:, 1]
    positives, negatives = positives_by_block.sum(axis=0), negatives_by_block.sum(axis=0)
    limit = (1.0 - min_specificity) * negatives + slack
    negatives_before = np.cumsum(negatives_by_block, axis=0) - negatives_by_block
    positives_before = np.cumsum(positives_by_block, axis=0) - positives_by_block
    # The block holding u: the last whose start still has more false positives than allowed.
    over = (negatives[None, :] - negatives_before) > limit[None, :]
    block = np.maximum(over.sum(axis=0) - 1, 0)
    samples = np.arange(n_samples)
    weights = x[block, :, samples].astype(np.float64)  # (B, _BLOCK): that block's weights
    negative_weights = weights * ordered.negative[block]
    false_pos = (negatives - negatives_before[block, samples])[:, None] - (
        np.cumsum(negative_weights, axis=1) - negative_weights
    )
    # Positions in the block up to and including u; the positives among them are not counted.
    through_u = (false_pos > limit[:, None]).sum(axis=1)
    inside = np.arange(x.shape[1])[None, :] < through_u[:, None]
    missed = positives_before[block, samples] + np.sum(
        weights * ordered.positive[block] * inside, axis=1
    )
    defined = (positives > 0) & (negatives > 0)
    return np.where(defined, (positives - missed) / np.where(defined, positives, 1.0), np.nan)
