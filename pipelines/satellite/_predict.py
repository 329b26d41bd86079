"""Compiled prediction kernels for the land-cover MLP (numba, no Python call per pixel).

The kernels read a feature block laid out as ``(feature, pixel)`` — a ``(feature, y, x)`` dask
chunk reshaped without copying — and evaluate a one-hidden-layer ReLU network on batches of
:data:`BATCH` pixels: hidden = relu(W1ᵀx + b1), logits = W2ᵀhidden + b2. The inner loops run
over the pixels of a batch, so they vectorise (SIMD) and every pixel goes through exactly the
same instructions whatever its position in the block (the last batch is zero-padded): the
result of a pixel does not depend on how the raster is chunked. Pixels with a NaN or infinite
feature get code 0 (no data) / NaN probabilities. ``nogil`` lets dask threads run in parallel.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

BATCH = 64
"""Pixels per batch (the hidden activations of a batch stay in the L1/L2 cache)."""

TILE = 4
"""Hidden units computed together; the hidden layer width must be a multiple of it."""

_FLOAT_MAX = np.float32(3.4028235e38)


@njit(nogil=True, cache=True, fastmath={"contract"})
def _forward(
    x: npt.NDArray[np.float32],
    w1t: npt.NDArray[np.float32],
    b1: npt.NDArray[np.float32],
    w2t: npt.NDArray[np.float32],
    b2: npt.NDArray[np.float32],
    b0: int,
    xs: npt.NDArray[np.float32],
    hidden: npt.NDArray[np.float32],
    logits: npt.NDArray[np.float32],
    valid: npt.NDArray[np.bool_],
    acc: npt.NDArray[np.float32],
) -> int:  # pragma: no cover - compiled
    """Logits of pixels b0 … b0+BATCH−1 into ``logits`` (K, BATCH); returns the batch size."""
    n_features, n = x.shape
    nb = min(BATCH, n - b0)
    acc0, acc1, acc2, acc3 = acc[0], acc[1], acc[2], acc[3]
    for p in range(BATCH):
        valid[p] = p < nb
    for f in range(n_features):
        for p in range(nb):
            v = x[f, b0 + p]
            if not abs(v) <= _FLOAT_MAX:  # NaN or ±inf
                valid[p] = False
                v = np.float32(0.0)
            xs[f, p] = v
        for p in range(nb, BATCH):
            xs[f, p] = np.float32(0.0)
    n_hidden = w1t.shape[0]
    for j in range(0, n_hidden, TILE):  # 4 hidden units × BATCH pixels held in registers
        for p in range(BATCH):
            acc0[p] = b1[j]
            acc1[p] = b1[j + 1]
            acc2[p] = b1[j + 2]
            acc3[p] = b1[j + 3]
        for f in range(n_features):
            w0 = w1t[j, f]
            w1 = w1t[j + 1, f]
            w2 = w1t[j + 2, f]
            w3 = w1t[j + 3, f]
            row = xs[f]
            for p in range(BATCH):
                v = row[p]
                acc0[p] += w0 * v
                acc1[p] += w1 * v
                acc2[p] += w2 * v
                acc3[p] += w3 * v
        for p in range(BATCH):
            hidden[j, p] = max(acc0[p], np.float32(0.0))
            hidden[j + 1, p] = max(acc1[p], np.float32(0.0))
            hidden[j + 2, p] = max(acc2[p], np.float32(0.0))
            hidden[j + 3, p] = max(acc3[p], np.float32(0.0))
    for k in range(w2t.shape[0]):
        out = logits[k]
        bk = b2[k]
        for p in range(BATCH):
            out[p] = bk
        for j in range(n_hidden):
            w = w2t[k, j]
            row = hidden[j]
            for p in range(BATCH):
                out[p] += w * row[p]
    return nb


@njit(nogil=True, cache=True)
def mlp_codes(
    x: npt.NDArray[np.float32],
    w1t: npt.NDArray[np.float32],
    b1: npt.NDArray[np.float32],
    w2t: npt.NDArray[np.float32],
    b2: npt.NDArray[np.float32],
    codes: npt.NDArray[np.uint8],
) -> npt.NDArray[np.uint8]:  # pragma: no cover - compiled
    """Class code (``codes[argmax logit]``, 0 where a feature is not finite) per pixel.

    ``x`` is (F, n) float32 (any strides); ``w1t`` (H, F), ``b1`` (H,), ``w2t`` (K, H),
    ``b2`` (K,); H a multiple of :data:`TILE`.
    """
    n_features, n = x.shape
    out = np.empty(n, dtype=np.uint8)
    xs = np.empty((n_features, BATCH), dtype=np.float32)
    hidden = np.empty((w1t.shape[0], BATCH), dtype=np.float32)
    logits = np.empty((w2t.shape[0], BATCH), dtype=np.float32)
    valid = np.empty(BATCH, dtype=np.bool_)
    acc = np.empty((TILE, BATCH), dtype=np.float32)
    for b0 in range(0, n, BATCH):
        nb = _forward(x, w1t, b1, w2t, b2, b0, xs, hidden, logits, valid, acc)
        for p in range(nb):
            best = 0
            for k in range(1, logits.shape[0]):
                if logits[k, p] > logits[best, p]:
                    best = k
            out[b0 + p] = codes[best] if valid[p] else np.uint8(0)
    return out


@njit(nogil=True, cache=True)
def mlp_probabilities(
    x: npt.NDArray[np.float32],
    w1t: npt.NDArray[np.float32],
    b1: npt.NDArray[np.float32],
    w2t: npt.NDArray[np.float32],
    b2: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:  # pragma: no cover - compiled
    """Softmax class probabilities (K, n); NaN where a feature is not finite."""
    n_features, n = x.shape
    n_classes = w2t.shape[0]
    out = np.empty((n_classes, n), dtype=np.float32)
    xs = np.empty((n_features, BATCH), dtype=np.float32)
    hidden = np.empty((w1t.shape[0], BATCH), dtype=np.float32)
    logits = np.empty((n_classes, BATCH), dtype=np.float32)
    valid = np.empty(BATCH, dtype=np.bool_)
    acc = np.empty((TILE, BATCH), dtype=np.float32)
    for b0 in range(0, n, BATCH):
        nb = _forward(x, w1t, b1, w2t, b2, b0, xs, hidden, logits, valid, acc)
        for p in range(nb):
            if not valid[p]:
                for k in range(n_classes):
                    out[k, b0 + p] = np.nan
                continue
            top = logits[0, p]
            for k in range(1, n_classes):
                top = max(top, logits[k, p])
            total = np.float32(0.0)
            for k in range(n_classes):
                e = np.exp(logits[k, p] - top)
                out[k, b0 + p] = e
                total += e
            for k in range(n_classes):
                out[k, b0 + p] /= total
    return out
