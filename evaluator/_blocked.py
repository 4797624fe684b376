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
    """The weights in score order (positives first among ties), cut into blocks, for c
    score columns at once (one leading axis), so that all of them share every array
    operation and matrix product."""

    x: np.ndarray  # (c, blocks, _BLOCK, B) weights
    scores: np.ndarray  # (c, n) sorted
    positive: np.ndarray  # (c, blocks, _BLOCK) bool; padding is neither positive nor negative
    negative: np.ndarray
    inner: np.ndarray  # (c, blocks, _BLOCK, B): the pair kernel of each block times its weights
    block_sums: np.ndarray  # (c, blocks, 2, B): positive, negative weight per block (x's dtype)

    @classmethod
    def of(cls, columns: Columns, scores: np.ndarray, positive: np.ndarray) -> _Sorted:
        """``scores`` and ``positive`` are (c, n): one score column and its positives a row."""
        n = columns.n_cases
        positive = np.asarray(positive, dtype=bool)
        c = scores.shape[0]
        n_blocks = -(-n // _BLOCK)
        size = n_blocks * _BLOCK
        rows = np.full((c, size), n)  # row n is the zero row
        for k in range(c):  # by score; positives first among equals
            rows[k, :n] = np.lexsort((~positive[k], scores[k]))
        order = rows[:, :n]
        x = columns.data[rows.ravel()].reshape(c, n_blocks, _BLOCK, columns.n_samples)
        sorted_scores = np.take_along_axis(scores, order, axis=1)
        is_positive = np.zeros((c, size), dtype=bool)
        is_positive[:, :n] = np.take_along_axis(positive, order, axis=1)
        is_negative = np.zeros((c, size), dtype=bool)
        is_negative[:, :n] = ~is_positive[:, :n]
        is_positive = is_positive.reshape(c, n_blocks, _BLOCK)
        is_negative = is_negative.reshape(c, n_blocks, _BLOCK)
        padded = np.zeros((c, size))
        padded[:, :n] = sorted_scores
        s = padded.reshape(c, n_blocks, _BLOCK)
        # One product per block gives the pair kernel times the weights (rows [0, _BLOCK):
        # kernel[i, j] for row i positive and column j negative, [s_j < s_i, 1/2 if =]) and
        # the block's positive and negative weight (the last two rows).
        lhs = np.empty((c, n_blocks, _BLOCK + 2, _BLOCK), dtype=x.dtype)
        step = lhs[..., :_BLOCK, :]
        np.less(s[..., None, :], s[..., :, None], out=step)
        step += 0.5 * (s[..., None, :] == s[..., :, None])
        step *= is_positive[..., :, None] & is_negative[..., None, :]
        lhs[..., _BLOCK, :] = is_positive
        lhs[..., _BLOCK + 1, :] = is_negative
        product = np.matmul(lhs, x)
        return cls(
            x,
            sorted_scores,
            is_positive,
            is_negative,
            product[..., :_BLOCK, :],
            product[..., _BLOCK:, :],
        )

    @property
    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """(c, B) float64 total positive and negative weight."""
        sums = self.block_sums.sum(axis=1, dtype=np.float64)
        return sums[:, 0], sums[:, 1]

    def pair_wins(self) -> np.ndarray:
        """(c, B) sum over (positive, negative) pairs of their weights x [s_j < s_i, 1/2 if =]."""
        within = np.einsum("cimb,cimb->cib", self.inner, self.x).sum(axis=1, dtype=np.float64)
        positives = self.block_sums[:, :, 0].astype(np.float64)
        negatives_before = _exclusive_prefix(self.block_sums[:, :, 1]).astype(np.float64)
        across = np.einsum("cib,cib->cb", positives, negatives_before)
        return within + across + self._straddling_ties()

    def _straddling_ties(self) -> np.ndarray:
        """Half of each equal-score pair whose positive is in an earlier block than its negative.

        Inside a tie group the positives come first, at [start, middle), then the negatives.
        """
        c, n = self.scores.shape
        n_samples = self.x.shape[3]
        total = np.zeros((c, n_samples))
        for k in range(c):
            scores = self.scores[k]
            starts = np.flatnonzero(np.r_[True, scores[1:] != scores[:-1]])
            ends = np.r_[starts[1:], n]
            straddle = (starts // _BLOCK) != ((ends - 1) // _BLOCK)
            if not straddle.any():
                continue
            flat = self.x[k].reshape(-1, n_samples)
            n_positive = np.cumsum(np.r_[0, self.positive[k].ravel()[:n]])
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
                total[k] += 0.5 * pairs
        return total


def _exclusive_prefix(values: np.ndarray) -> np.ndarray:
    """(c, blocks, B) -> the sum over the earlier blocks, in ``values``' dtype (exact for whole
    counts: totals stay below 2**23, see ``Columns.from_weights``). A loop over the blocks
    keeps each addition contiguous, where numpy's cumsum along axis 1 walks memory by B."""
    before = np.empty_like(values)
    before[:, 0] = 0
    for i in range(1, values.shape[1]):
        np.add(before[:, i - 1], values[:, i - 1], out=before[:, i])
    return before


def _row_sum(flat: np.ndarray, start: int, end: int) -> np.ndarray:
    return flat[start:end].sum(axis=0, dtype=np.float64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    defined = denominator > 0
    return np.where(defined, numerator / np.where(defined, denominator, 1.0), np.nan)


def auc(columns: Columns, scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """(B,) weighted ROC AUC; NaN where a sample has no positive or no negative weight."""
    return auc_many(columns, np.asarray(scores)[None], np.asarray(positive)[None])[0]


def auc_many(columns: Columns, scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """(c, B) weighted ROC AUC of each of c score columns, ``scores`` and ``positive`` (c, n):
    the one-vs-rest AUCs of several classes, sharing every array operation."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    if columns.n_cases == 0 or scores.shape[0] == 0:
        return np.full((scores.shape[0], columns.n_samples), np.nan)
    # One column at a time: (n, B) arrays stay small enough to be reused from the cache.
    return np.concatenate(
        [
            _auc(_Sorted.of(columns, scores[k : k + 1], positive[k : k + 1]))
            for k in range(len(scores))
        ]
    )


def _auc(ordered: _Sorted) -> np.ndarray:
    positives, negatives = ordered.totals
    return _ratio(ordered.pair_wins(), positives * negatives)


def auc_and_sens_at_spec(
    columns: Columns, scores: np.ndarray, positive: np.ndarray, min_specificity: float, slack: float
) -> tuple[np.ndarray, np.ndarray]:
    """(B,) AUC and (B,) highest sensitivity at specificity >= ``min_specificity``, from one
    sort: see ``roc_points.weighted_sens_at_spec`` for the definition."""
    n_samples = columns.n_samples
    if columns.n_cases == 0:
        return np.full(n_samples, np.nan), np.full(n_samples, np.nan)
    scores = np.asarray(scores, dtype=np.float64)[None]
    ordered = _Sorted.of(columns, scores, np.asarray(positive)[None])
    return _auc(ordered)[0], _sens_at_spec(ordered, min_specificity, slack)


def _sens_at_spec(ordered: _Sorted, min_specificity: float, slack: float) -> np.ndarray:
    """With thresholds t (positive when score >= t), false positives FP(t) fall as t rises;
    the allowed t are those above u, the highest drawn negative score whose FP(u) is over the
    limit, so the best sensitivity counts the positives scoring above u. In positives-first
    score order, FP at position r is the negative weight from r on, and u sits at the last
    position where that exceeds the limit; the positives above u are those after it.

    For the first (only) score column of ``ordered``."""
    x = ordered.x[0]
    n_samples = x.shape[2]
    block_sums = ordered.block_sums[0].astype(np.float64)
    positives_by_block, negatives_by_block = block_sums[:, 0], block_sums[:, 1]
    positives, negatives = positives_by_block.sum(axis=0), negatives_by_block.sum(axis=0)
    limit = (1.0 - min_specificity) * negatives + slack
    negatives_before = _exclusive_prefix(negatives_by_block[None])[0]
    positives_before = _exclusive_prefix(positives_by_block[None])[0]
    # The block holding u: the last whose start still has more false positives than allowed.
    over = (negatives[None, :] - negatives_before) > limit[None, :]
    block = np.maximum(over.sum(axis=0) - 1, 0)
    samples = np.arange(n_samples)
    weights = x[block, :, samples].astype(np.float64)  # (B, _BLOCK): that block's weights
    negative_weights = weights * ordered.negative[0][block]
    false_pos = (negatives - negatives_before[block, samples])[:, None] - (
        np.cumsum(negative_weights, axis=1) - negative_weights
    )
    # Positions in the block up to and including u; the positives among them are not counted.
    through_u = (false_pos > limit[:, None]).sum(axis=1)
    inside = np.arange(x.shape[1])[None, :] < through_u[:, None]
    missed = positives_before[block, samples] + np.sum(
        weights * ordered.positive[0][block] * inside, axis=1
    )
    defined = (positives > 0) & (negatives > 0)
    return np.where(defined, (positives - missed) / np.where(defined, positives, 1.0), np.nan)
