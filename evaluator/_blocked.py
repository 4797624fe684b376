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
_CHUNK = 16  # blocks sorted and multiplied at a time (256 x B weights)
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

    data: np.ndarray  # the (n + 1, B) case-major weights (``Columns.data``)
    rows: np.ndarray  # (blocks, _BLOCK) their rows in that order; padding is the zero row
    scores: np.ndarray  # (n,) sorted
    positive: np.ndarray  # (blocks, _BLOCK) bool; padding is neither positive nor negative
    negative: np.ndarray
    block_sums: np.ndarray  # (blocks, 2, B): positive, negative weight per block (x's dtype)
    totals: np.ndarray  # (2, B) float64: total positive and negative weight
    within: np.ndarray  # (B,) float64: the pairs inside each block (kernel below)

    @classmethod
    def of(cls, columns: Columns, scores: np.ndarray, positive: np.ndarray) -> _Sorted:
        n = columns.n_cases
        rows, padded, is_positive, is_negative = _sorted_padded(scores, positive, n)
        n_blocks = len(rows) // _BLOCK
        s = padded.reshape(n_blocks, _BLOCK)
        # The pair kernel of a block: kernel[i, j] = [s_j < s_i, 1/2 if =] for i positive and
        # j negative. Its rows are put on the smaller side (positives, else the negatives, as
        # its transpose), as only those rows of kernel @ x are needed: row i's weight times
        # them, summed, gives the pairs inside the block. One product per block gives those
        # rows and (the last two rows) the block's positive and negative weight.
        rows_positive = 2 * int(is_positive.sum()) <= n
        lhs = np.empty((n_blocks, _BLOCK + 2, _BLOCK), dtype=columns.data.dtype)
        kernel = lhs[:, :_BLOCK, :]
        if rows_positive:
            np.less(s[:, None, :], s[:, :, None], out=kernel)
        else:
            np.less(s[:, :, None], s[:, None, :], out=kernel)
        kernel += 0.5 * (s[:, None, :] == s[:, :, None])
        is_positive = is_positive.reshape(n_blocks, _BLOCK)
        is_negative = is_negative.reshape(n_blocks, _BLOCK)
        row_side = is_positive if rows_positive else is_negative
        column_side = is_negative if rows_positive else is_positive
        kernel *= row_side[:, :, None] & column_side[:, None, :]
        lhs[:, _BLOCK, :] = is_positive
        lhs[:, _BLOCK + 1, :] = is_negative
        block_sums, inner = _block_products(columns, lhs, rows, np.flatnonzero(row_side))
        totals = block_sums.sum(axis=0, dtype=np.float64)
        within = _exact_sum(inner, totals)
        return cls(
            columns.data,
            rows.reshape(n_blocks, _BLOCK),
            padded[:n],
            is_positive,
            is_negative,
            block_sums,
            totals,
            within,
        )

    def pair_wins(self) -> np.ndarray:
        """(B,) sum over (positive, negative) pairs of their weights x [s_j < s_i, 1/2 if =]."""
        positives, negatives = self.block_sums[:, 0], self.block_sums[:, 1]
        across = _exact_sum(positives * _exclusive_prefix(negatives), self.totals)
        return self.within + across + self._straddling_ties()

    def _straddling_ties(self) -> np.ndarray:
        """Half of each equal-score pair whose positive is in an earlier block than its negative.

        Inside a tie group the positives come first, at [start, middle), then the negatives.
        """
        n = len(self.scores)
        total = np.zeros(self.data.shape[1])
        starts = np.flatnonzero(np.r_[True, self.scores[1:] != self.scores[:-1]])
        ends = np.r_[starts[1:], n]
        straddle = (starts // _BLOCK) != ((ends - 1) // _BLOCK)
        if not straddle.any():
            return total
        row_sum = _RowSums(self.data, self.rows.ravel())
        n_positive = np.cumsum(np.r_[0, self.positive.ravel()[:n]])
        for start, end in zip(starts[straddle], ends[straddle], strict=True):
            middle = start + int(n_positive[end] - n_positive[start])
            if middle in (start, end):  # all positive or all negative: no pairs
                continue
            pairs = row_sum(start, middle) * row_sum(middle, end)
            block = middle // _BLOCK
            if (middle - 1) // _BLOCK == block:  # pairs inside that block are in the kernel
                first, last = block * _BLOCK, (block + 1) * _BLOCK
                pairs -= row_sum(max(start, first), middle) * row_sum(middle, min(end, last))
            total += 0.5 * pairs
        return total


def _exact_sum(terms: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """(m, B) non-negative pair weights -> (B,) float64 column sums.

    Each sum counts (positive, negative) pairs, halves included, so it is at most the
    positive times the negative weight of its sample: float32 adds whole halves exactly while
    that stays below 2**23, and then the sum is done in float32."""
    if terms.dtype == np.float32 and (totals[0] * totals[1]).max(initial=0.0) < 2**23:
        return np.einsum("mb->b", terms).astype(np.float64)
    return terms.sum(axis=0, dtype=np.float64)


def _exclusive_prefix(values: np.ndarray) -> np.ndarray:
    """(blocks, B) -> the sum over the earlier blocks, in ``values``' dtype (exact for whole
    counts: totals stay below 2**23, see ``Columns.from_weights``). A loop over the blocks
    keeps each addition contiguous, where numpy's cumsum along axis 0 walks memory by B."""
    before = np.empty_like(values)
    before[0] = 0
    for i in range(1, values.shape[0]):
        np.add(before[i - 1], values[i - 1], out=before[i])
    return before


@dataclass(frozen=True)
class _RowSums:
    """The weights of a range of positions in score order, summed (gathered on demand)."""

    data: np.ndarray
    rows: np.ndarray

    def __call__(self, start: int, end: int) -> np.ndarray:
        return self.data[self.rows[start:end]].sum(axis=0, dtype=np.float64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    defined = denominator > 0
    return np.where(defined, numerator / np.where(defined, denominator, 1.0), np.nan)


def auc(columns: Columns, scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """(B,) weighted ROC AUC; NaN where a sample has no positive or no negative weight."""
    return auc_many(columns, np.asarray(scores)[None], np.asarray(positive)[None])[0]


def auc_many(columns: Columns, scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """(c, B) weighted ROC AUC of each of c score columns, ``scores`` and ``positive`` (c, n):
    the one-vs-rest AUCs of several classes. One column at a time, so that the (n, B) arrays
    stay small enough to be reused from the cache; a single sample skips the blocks."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    if columns.n_cases == 0 or scores.shape[0] == 0:
        return np.full((scores.shape[0], columns.n_samples), np.nan)
    if columns.n_samples == 1:  # the point estimate: plain cumulative sums are cheaper
        weights = columns.data[:-1, 0].astype(np.float64)
        return np.array(
            [[_single_auc(weights, s, p)] for s, p in zip(scores, positive, strict=True)]
        )
    return np.stack(
        [_auc(_Sorted.of(columns, s, p)) for s, p in zip(scores, positive, strict=True)]
    )


def _single_auc(weights: np.ndarray, scores: np.ndarray, positive: np.ndarray) -> float:
    """AUC under one (n,) weighting: the same sums as the blocks, in score order at once."""
    order = np.lexsort((~positive, scores))  # by score; positives first among equals
    is_positive = positive[order]
    w = weights[order]
    positive_w = np.where(is_positive, w, 0.0)
    negative_w = w - positive_w
    negatives_before = np.cumsum(negative_w) - negative_w
    wins = positive_w @ negatives_before
    # A positive's tied negatives come after it: add half of each tie group's pairs.
    ordered = scores[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    if len(starts) < len(ordered):
        tied = np.add.reduceat(positive_w, starts) @ np.add.reduceat(negative_w, starts)
        wins += 0.5 * tied
    total = positive_w.sum() * negative_w.sum()
    return wins / total if total > 0 else np.nan


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
    scores = np.asarray(scores, dtype=np.float64)
    if n_samples == 1 and columns.data.dtype == np.float32:  # one sample of whole counts
        weights = columns.data[:-1, 0].astype(np.float64)
        positive = np.asarray(positive, dtype=bool)
        auc_value = _single_auc(weights, scores, positive)
        sens = _single_sens_at_spec(weights, scores, positive, min_specificity, slack)
        return np.array([auc_value]), np.array([sens])
    ordered = _Sorted.of(columns, scores, positive)
    return _auc(ordered), _sens_at_spec(ordered, min_specificity, slack)


def _single_sens_at_spec(
    weights: np.ndarray,
    scores: np.ndarray,
    positive: np.ndarray,
    min_specificity: float,
    slack: float,
) -> float:
    """``_sens_at_spec`` for one (n,) weighting, without the blocks: the same whole-count sums."""
    order = np.lexsort((~positive, scores))
    is_positive = positive[order]
    w = weights[order]
    positive_w = np.where(is_positive, w, 0.0)
    negative_w = w - positive_w
    positives, negatives = positive_w.sum(), negative_w.sum()
    if not (positives > 0 and negatives > 0):
        return np.nan
    limit = (1.0 - min_specificity) * negatives + slack
    false_pos = negatives - (np.cumsum(negative_w) - negative_w)  # from each position on
    through_u = int(np.count_nonzero(false_pos > limit))  # a prefix: false_pos falls
    missed = positive_w[:through_u].sum()
    return (positives - missed) / positives


def _sens_at_spec(ordered: _Sorted, min_specificity: float, slack: float) -> np.ndarray:
    """With thresholds t (positive when score >= t), false positives FP(t) fall as t rises;
    the allowed t are those above u, the highest drawn negative score whose FP(u) is over the
    limit, so the best sensitivity counts the positives scoring above u. In positives-first
    score order, FP at position r is the negative weight from r on, and u sits at the last
    position where that exceeds the limit; the positives above u are those after it."""
    n_samples = ordered.data.shape[1]
    block_sums = ordered.block_sums.astype(np.float64)
    positives_by_block, negatives_by_block = block_sums[:, 0], block_sums[:, 1]
    positives, negatives = positives_by_block.sum(axis=0), negatives_by_block.sum(axis=0)
    limit = (1.0 - min_specificity) * negatives + slack
    negatives_before = _exclusive_prefix(negatives_by_block)
    positives_before = _exclusive_prefix(positives_by_block)
    # The block holding u: the last whose start still has more false positives than allowed.
    over = (negatives[None, :] - negatives_before) > limit[None, :]
    block = np.maximum(over.sum(axis=0) - 1, 0)
    samples = np.arange(n_samples)
    # (B, _BLOCK): that block's weights
    weights = ordered.data[ordered.rows[block], samples[:, None]].astype(np.float64)
    negative_weights = weights * ordered.negative[block]
    false_pos = (negatives - negatives_before[block, samples])[:, None] - (
        np.cumsum(negative_weights, axis=1) - negative_weights
    )
    # Positions in the block up to and including u; the positives among them are not counted.
    through_u = (false_pos > limit[:, None]).sum(axis=1)
    inside = np.arange(_BLOCK)[None, :] < through_u[:, None]
    missed = positives_before[block, samples] + np.sum(
        weights * ordered.positive[block] * inside, axis=1
    )
    defined = (positives > 0) & (negatives > 0)
    return np.where(defined, (positives - missed) / np.where(defined, positives, 1.0), np.nan)


def _sorted_padded(
    scores: np.ndarray, positive: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cases sorted by score (positives first among equals), padded to whole blocks: the
    rows (row n is the zero row), their scores, and which are positive and negative."""
    positive = np.asarray(positive, dtype=bool)
    order = np.lexsort((~positive, scores))
    size = -(-n // _BLOCK) * _BLOCK
    rows = np.full(size, n)
    rows[:n] = order
    is_positive = np.zeros(size, dtype=bool)
    is_positive[:n] = positive[order]
    is_negative = np.zeros(size, dtype=bool)
    is_negative[:n] = ~is_positive[:n]
    padded = np.zeros(size)
    padded[:n] = scores[order]
    return rows, padded, is_positive, is_negative


def _block_products(
    columns: Columns, lhs: np.ndarray, rows: np.ndarray, kernel_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each block's positive and negative weight sums (blocks, 2, B), and the kernel's rows
    that can be non-zero (the row side's cases) times their weights (rows, B)."""
    n_blocks, n_samples = lhs.shape[0], columns.n_samples
    block_sums = np.empty((n_blocks, 2, n_samples), dtype=lhs.dtype)
    inner = np.empty((len(kernel_rows), n_samples), dtype=lhs.dtype)
    # A chunk of blocks at a time, so the sorted weights and their product are still in
    # the cache when they are used: the weights are read from memory once.
    bounds = np.searchsorted(kernel_rows, np.r_[0:n_blocks:_CHUNK, n_blocks] * _BLOCK)
    for chunk, first in enumerate(range(0, n_blocks, _CHUNK)):
        last = min(first + _CHUNK, n_blocks)
        x = columns.data[rows[first * _BLOCK : last * _BLOCK]]
        product = np.matmul(lhs[first:last], x.reshape(last - first, _BLOCK, n_samples))
        block_sums[first:last] = product[:, _BLOCK:, :]
        local = kernel_rows[bounds[chunk] : bounds[chunk + 1]] - first * _BLOCK
        np.multiply(
            product.reshape(-1, n_samples)[local + 2 * (local // _BLOCK)],
            x[local],
            out=inner[bounds[chunk] : bounds[chunk + 1]],
        )
    return block_sums, inner
