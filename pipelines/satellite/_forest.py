"""Random forests as flat node arrays walked by compiled kernels (used by :mod:`.carbon`).

scikit-learn's tree arrays are flattened once; numba kernels (GIL released) walk whole blocks of
pixels, reproducing ``RandomForestRegressor.predict`` exactly (``float32(x) <= threshold``), and
give the fold forests' means and the leaf co-membership weights of the quantile forest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


TILE = 256
"""Pixels walked down one tree level by level together (independent loads overlap)."""


@numba.njit(nogil=True, cache=True)
def _load_tile(
    x: npt.NDArray[np.float32], start: int, count: int, xt: npt.NDArray[np.float32]
) -> None:  # pragma: no cover - compiled
    """Copy pixels ``start … start+count`` into ``xt`` feature-major: ``xt[f·TILE + i]``."""
    for i in range(count):
        for f in range(x.shape[1]):
            xt[f * TILE + i] = x[start + i, f]


@numba.njit(nogil=True, cache=True)
def _tile_leaves(
    xt: npt.NDArray[np.float32],
    count: int,
    root: int,
    depth: int,
    feature: npt.NDArray[np.int32],
    threshold: npt.NDArray[np.float32],
    child: npt.NDArray[np.int32],
    node: npt.NDArray[np.int32],
) -> None:  # pragma: no cover - compiled
    """Leaf of one tree reached by each of the tile's ``count`` pixels, into ``node[:count]``.

    Leaves are their own children (threshold +inf), so ``depth`` branch-free steps reach the
    leaf from any path. Walking all the tile's pixels one level at a time makes the steps of
    different pixels independent, so their memory loads overlap (and the compiler can use
    vector gathers) instead of each pixel waiting on its own chain of loads.
    """
    for i in range(count):
        node[i] = root
    for _ in range(depth):
        for i in range(count):
            nd = node[i]
            go_right = xt[feature[nd] * TILE + i] > threshold[nd]
            node[i] = child[2 * nd + np.int32(go_right)]


@numba.njit(nogil=True, cache=True)
def _fold_means_kernel(
    x: npt.NDArray[np.float32],
    feature: npt.NDArray[np.int32],
    threshold: npt.NDArray[np.float32],
    child: npt.NDArray[np.int32],
    value: FloatArray,
    roots: npt.NDArray[np.int32],
    depths: npt.NDArray[np.int32],
    tree_fold: npt.NDArray[np.int32],
    n_folds: int,
) -> FloatArray:  # pragma: no cover - compiled
    """Mean prediction of each fold's trees, ``(pixels, folds)``."""
    n_px = x.shape[0]
    out = np.zeros((n_px, n_folds))
    per_fold = np.zeros(n_folds)
    for t in range(roots.size):
        per_fold[tree_fold[t]] += 1.0
    xt = np.empty(x.shape[1] * TILE, dtype=np.float32)
    node = np.empty(TILE, dtype=np.int32)
    acc = np.empty((n_folds, TILE))
    for start in range(0, n_px, TILE):
        count = min(TILE, n_px - start)
        _load_tile(x, start, count, xt)
        acc[:] = 0.0
        for t in range(roots.size):
            _tile_leaves(xt, count, roots[t], depths[t], feature, threshold, child, node)
            k = tree_fold[t]
            for i in range(count):
                acc[k, i] += value[node[i]]
        for i in range(count):
            for k in range(n_folds):
                out[start + i, k] = acc[k, i] / per_fold[k]
    return out


@numba.njit(nogil=True, cache=True)
def _qrf_kernel(
    x: npt.NDArray[np.float32],
    pixel_fold: npt.NDArray[np.int64],
    feature: npt.NDArray[np.int32],
    threshold: npt.NDArray[np.float32],
    child: npt.NDArray[np.int32],
    roots: npt.NDArray[np.int32],
    depths: npt.NDArray[np.int32],
    tree_fold: npt.NDArray[np.int32],
    leaf_ptr: npt.NDArray[np.int64],
    leaf_rank: npt.NDArray[np.int64],
    y_sorted: FloatArray,
    q_lo: float,
    q_hi: float,
) -> FloatArray:  # pragma: no cover - compiled
    """Quantile-forest quantiles ``(pixels, 2)``; ``pixel_fold[p] >= 0`` uses only that fold.

    Weights (Meinshausen 2006, eq. 4): each tree gives 1/|leaf| to the training plots in the
    leaf the pixel reaches; the quantile is the smallest sorted y whose cumulative weight
    reaches the level.
    """
    n_px = x.shape[0]
    n = y_sorted.size
    n_trees = roots.size
    out = np.empty((n_px, 2))
    w = np.zeros(n)
    xt = np.empty(x.shape[1] * TILE, dtype=np.float32)
    node = np.empty(TILE, dtype=np.int32)
    leaves = np.empty((TILE, n_trees), dtype=np.int32)
    for start in range(0, n_px, TILE):
        count = min(TILE, n_px - start)
        _load_tile(x, start, count, xt)
        for t in range(n_trees):
            _tile_leaves(xt, count, roots[t], depths[t], feature, threshold, child, node)
            for i in range(count):
                leaves[i, t] = node[i]
        for i in range(count):
            p = start + i
            w[:] = 0.0
            used = 0.0
            for t in range(n_trees):
                if pixel_fold[p] >= 0 and tree_fold[t] != pixel_fold[p]:
                    continue
                lo_j, hi_j = leaf_ptr[leaves[i, t]], leaf_ptr[leaves[i, t] + 1]
                if hi_j > lo_j:
                    share = 1.0 / (hi_j - lo_j)
                    for j in range(lo_j, hi_j):
                        w[leaf_rank[j]] += share
                    used += 1.0
            lo_target = q_lo * used - 1e-9
            hi_target = q_hi * used - 1e-9
            cum = 0.0
            lo = y_sorted[n - 1]
            hi = y_sorted[n - 1]
            found_lo = False
            for r in range(n):
                cum += w[r]
                if not found_lo and cum >= lo_target:
                    lo = y_sorted[r]
                    found_lo = True
                if cum >= hi_target:
                    hi = y_sorted[r]
                    break
            out[p, 0] = lo
            out[p, 1] = hi
    return out


@dataclass(frozen=True, eq=False)
class Forest:
    """All trees of all fold forests as flat node arrays.

    ``child[2·i]``/``child[2·i+1]`` are node i's left/right children (global indices; a leaf is
    its own child); ``threshold`` is scikit-learn's float64 threshold rounded *down* to float32,
    which keeps ``float32(x) <= threshold`` exactly as scikit-learn decides it.
    """

    feature: npt.NDArray[np.int32]
    threshold: npt.NDArray[np.float32]
    child: npt.NDArray[np.int32]
    value: FloatArray
    roots: npt.NDArray[np.int32]
    depths: npt.NDArray[np.int32]
    tree_fold: npt.NDArray[np.int32]
    n_folds: int

    @property
    def n_nodes(self) -> int:
        """Number of nodes of all trees."""
        return int(self.feature.size)

    def fold_means(self, x: npt.NDArray[np.float32]) -> FloatArray:
        """``(pixels, folds)`` mean predictions of each fold forest."""
        return _fold_means_kernel(
            np.ascontiguousarray(x, dtype=np.float32), self.feature, self.threshold,
            self.child, self.value, self.roots, self.depths, self.tree_fold, self.n_folds,
        )  # fmt: skip


def _float32_floor(values: FloatArray) -> npt.NDArray[np.float32]:
    """Largest float32 ≤ each float64 value."""
    out = values.astype(np.float32)
    over = out.astype(np.float64) > values
    out[over] = np.nextafter(out[over], np.float32(-np.inf))
    return out


def flatten_forests(forests: Sequence[Any]) -> Forest:
    """Concatenate the trees of fitted ``RandomForestRegressor`` s (one per fold)."""
    feats, thrs, childs, vals, roots, depths, folds = [], [], [], [], [], [], []
    offset = 0
    for k, forest in enumerate(forests):
        for est in forest.estimators_:
            tree = est.tree_
            own = np.arange(tree.node_count, dtype=np.int64) + offset
            leaf = tree.children_left < 0
            left = np.where(leaf, own, tree.children_left + offset)
            right = np.where(leaf, own, tree.children_right + offset)
            childs.append(np.column_stack([left, right]).ravel())
            feats.append(np.where(leaf, 0, tree.feature))
            thrs.append(np.where(leaf, np.inf, tree.threshold))
            vals.append(tree.value[:, 0, 0].astype(np.float64))
            roots.append(offset)
            depths.append(tree.max_depth)
            folds.append(k)
            offset += tree.node_count
    return Forest(
        feature=np.concatenate(feats).astype(np.int32),
        threshold=_float32_floor(np.concatenate(thrs).astype(np.float64)),
        child=np.concatenate(childs).astype(np.int32),
        value=np.concatenate(vals),
        roots=np.asarray(roots, dtype=np.int32),
        depths=np.asarray(depths, dtype=np.int32),
        tree_fold=np.asarray(folds, dtype=np.int32),
        n_folds=len(forests),
    )


@dataclass(frozen=True, eq=False)
class LeafSamples:
    """For the quantile forest: training plots in every leaf (ranks in ``y_sorted``)."""

    leaf_ptr: npt.NDArray[np.int64]
    leaf_rank: npt.NDArray[np.int64]
    y_sorted: FloatArray

    def quantiles(
        self, forest: Forest, x: npt.NDArray[np.float32], pixel_fold: IntArray, levels: FloatArray
    ) -> FloatArray:
        """``(pixels, 2)`` forest quantiles at ``levels`` (lower, upper)."""
        return _qrf_kernel(
            np.ascontiguousarray(x, dtype=np.float32), pixel_fold.astype(np.int64),
            forest.feature, forest.threshold, forest.child, forest.roots, forest.depths,
            forest.tree_fold, self.leaf_ptr, self.leaf_rank, self.y_sorted,
            float(levels[0]), float(levels[1]),
        )  # fmt: skip


def leaf_samples(
    forests: Sequence[Any], forest: Forest, x: FloatArray, y: FloatArray, folds: IntArray
) -> LeafSamples:
    """Drop each fold's training plots down its trees and index them by global leaf."""
    order = np.argsort(y, kind="stable")
    rank = np.empty(y.size, dtype=np.int64)
    rank[order] = np.arange(y.size)
    leaves, ranks = [], []
    tree = 0
    for k, rf in enumerate(forests):
        train = np.nonzero(folds != k)[0]
        local = rf.apply(x[train].astype(np.float32))  # (n_train, trees)
        glob = local + forest.roots[tree : tree + local.shape[1]][np.newaxis, :]
        leaves.append(glob.ravel())
        ranks.append(np.repeat(rank[train], local.shape[1]))
        tree += local.shape[1]
    leaf = np.concatenate(leaves)
    by_leaf = np.argsort(leaf, kind="stable")
    counts = np.bincount(leaf, minlength=forest.n_nodes)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return LeafSamples(ptr, np.concatenate(ranks)[by_leaf], y[order].astype(np.float64))


# --------------------------------------------------------------------------- model
