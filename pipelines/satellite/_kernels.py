"""Compiled (numba) kernels of the satellite pipeline.

The per-pixel median over time is the hot loop of compositing (issue 3 §9: ≥ 100 M pixel-dates/s
on 2 cores, where numpy ``nanmedian`` manages 3.9 M). The kernel here sorts the observations of a
whole image row at once with a *sorting network*: a fixed list of compare-exchange steps
``(i, j)`` that sorts any ``t`` values (Batcher 1968, "Sorting networks and their applications",
AFIPS SJCC 32:307–314; odd–even merge sort). Applied to a ``(t, x)`` buffer, each step is an
element-wise ``min``/``max`` of two rows, a branch-free loop that the compiler vectorises (SIMD),
instead of a data-dependent sort per pixel. Invalid observations (masked or non-finite) are set to
``+inf`` before sorting, so after the network the ``n`` valid values are the first ``n`` rows and
the median is read at ``(n - 1) // 2`` and ``n // 2``.

The time pieces of a block (one dask block per date, as the scene reader makes them) are read in
place from a typed list rather than concatenated first, which saves a copy of the whole stack.
The kernels are serial and release the GIL (``nogil=True``): dask's threads (or distributed
workers) run them on several blocks at once; a parallel kernel inside a parallel scheduler would
only oversubscribe the cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numba
import numpy as np
import numpy.typing as npt
from numba.typed import List

__all__ = ["median_count_block", "sorting_network"]


@lru_cache(maxsize=64)
def sorting_network(n: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Comparators ``(lo[k], hi[k])``, ``lo < hi``, of Batcher's odd–even merge sort for ``n`` keys.

    The network is built for the next power of two and pruned to the comparators whose indices
    are both below ``n``. Pruning is valid because every comparator puts the minimum at its lower
    index: ``+inf`` padding keys at indices ≥ ``n`` are never moved, so dropping the comparators
    that touch them changes nothing (Knuth, TAOCP vol. 3, §5.3.4).
    """
    if n < 1:
        raise ValueError(f"a sorting network needs at least 1 key, got {n}")
    size = 1
    while size < n:
        size *= 2
    pairs: list[tuple[int, int]] = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    a, b = i + j, i + j + k
                    if a // (2 * p) == b // (2 * p) and b < n:
                        pairs.append((a, b))
            k //= 2
        p *= 2
    lo = np.array([a for a, _ in pairs], dtype=np.intp)
    hi = np.array([b for _, b in pairs], dtype=np.intp)
    return lo, hi


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _median_count_blocks(
    blocks: List[npt.NDArray[np.float32]],
    valid: npt.NDArray[np.bool_],
    lo: npt.NDArray[np.intp],
    hi: npt.NDArray[np.intp],
    out: npt.NDArray[np.float32],
) -> None:  # pragma: no cover - compiled; exercised through median_count_block
    nt, ny, nx = valid.shape
    nb = out.shape[1]
    buf = np.empty((nt, nx), dtype=np.float32)  # one image row, all dates
    cnt = np.empty(nx, dtype=np.int64)
    inf = np.float32(np.inf)
    half = np.float32(0.5)
    nan = np.float32(np.nan)
    for b in range(nb):
        for y in range(ny):
            cnt[:] = 0
            k = 0
            for block in blocks:  # load; invalid -> +inf (sorts last)
                for kk in range(block.shape[0]):
                    for x in range(nx):
                        v = block[kk, b, y, x]
                        ok = valid[k, y, x] and np.isfinite(v)
                        buf[k, x] = v if ok else inf
                        cnt[x] += ok
                    k += 1
            for c in range(lo.shape[0]):  # the network: row-wise min/max, vectorised
                row_lo = buf[lo[c]]
                row_hi = buf[hi[c]]
                for x in range(nx):
                    u = row_lo[x]
                    w = row_hi[x]
                    row_lo[x] = min(u, w)
                    row_hi[x] = max(u, w)
            for x in range(nx):
                n = cnt[x]
                out[1, b, y, x] = n
                if n == 0:
                    out[0, b, y, x] = nan
                elif n % 2 == 1:
                    out[0, b, y, x] = buf[n // 2, x]
                else:  # float32 (a + b) / 2, exactly as numpy's median
                    out[0, b, y, x] = (buf[n // 2 - 1, x] + buf[n // 2, x]) * half


def median_count_block(
    values: npt.NDArray[np.float32] | Sequence[npt.NDArray[np.float32]],
    valid: npt.NDArray[np.bool_] | Sequence[npt.NDArray[np.bool_]],
) -> npt.NDArray[np.float32]:
    """Median over time of the valid finite values, and how many there were.

    ``values`` is a ``(t, b, y, x)`` float32 array, or a sequence of such pieces along time (as
    dask hands over the blocks of one pixel window: they are read in place, not concatenated);
    ``valid`` is ``(t, y, x)`` bool (or ``(t, 1, y, x)``, or pieces): an observation enters when
    ``valid`` is true *and* the value is finite. Returns one float32 array ``(2, b, y, x)``:
    ``[0]`` the median (NaN where no value entered; the mean of the two middle values for an even
    count, as :func:`numpy.nanmedian`), ``[1]`` the count per band.
    """
    pieces = [values] if isinstance(values, np.ndarray) else list(values)
    if not pieces:
        raise ValueError("no values")
    blocks = List([np.ascontiguousarray(p, dtype=np.float32) for p in pieces])
    ok = np.asarray(valid if isinstance(valid, np.ndarray) else np.concatenate(valid), np.bool_)
    ok = np.ascontiguousarray(ok[:, 0] if ok.ndim == 4 else ok)
    nt = sum(b.shape[0] for b in blocks)
    shape = blocks[0].shape
    same = all(b.ndim == 4 and b.shape[1:] == shape[1:] for b in blocks)
    if not same or ok.shape != (nt, shape[2], shape[3]):
        raise ValueError(f"values {[b.shape for b in blocks]} and valid {ok.shape} do not match")
    out = np.empty((2, *shape[1:]), dtype=np.float32)
    if nt == 0:
        out[0] = np.nan
        out[1] = 0
        return out
    lo, hi = sorting_network(nt)
    _median_count_blocks(blocks, ok, lo, hi, out)
    return out
