"""A lazy, dask-backed scene cube of the synthetic stack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from mrv.errors import InputError
from pipelines.satellite.cube import grid_attrs
from pipelines.satellite.synthetic._scene import simulate_window, to_10m
from pipelines.satellite.synthetic._spec import F32, SyntheticSpec
from pipelines.satellite.synthetic._truth import Truth, generate_truth, strips, truth_arrays


def _cube_block(spec: SyntheticSpec, tw: Mapping[str, Any], ti: int, r: slice, c: slice) -> F32:
    block = simulate_window(spec, tw, ti, r, c)
    refl, scl = to_10m(block, spec)
    return np.concatenate([refl, scl[None].astype(np.float32)])[None]


def synthetic_cube(spec: SyntheticSpec, *, chunk_px: int = 256) -> tuple[xr.Dataset, Truth]:
    """A lazy scene cube (the :mod:`~pipelines.satellite.cube` contract) and its truth.

    ``reflectance`` is dask-backed with chunks ``(1, band, chunk_px, chunk_px)``; ``scl`` is
    uint8 on the 10 m grid. Values equal :func:`simulate_reflectance` for any ``chunk_px``.
    """
    import dask.array as da
    from dask.base import tokenize
    from dask.delayed import delayed

    if chunk_px < 2 or chunk_px % 2:
        raise InputError(f"chunk_px must be an even number ≥ 2, got {chunk_px}")
    truth = generate_truth(spec)
    h, w = spec.shape
    nb = len(spec.bands)
    token = tokenize(repr(spec))
    ys = list(strips(h, chunk_px))
    xs = list(strips(w, chunk_px))
    windows = {
        (i, j): delayed(
            truth_arrays(truth, ry, cx), name=f"synthetic-truth-{token}-{i}-{j}", traverse=False
        )
        for i, ry in enumerate(ys)
        for j, cx in enumerate(xs)
    }
    fn = delayed(_cube_block, pure=True)
    blocks = [
        [
            [
                [
                    da.from_delayed(
                        fn(
                            spec,
                            windows[i, j],
                            ti,
                            ry,
                            cx,
                            dask_key_name=f"synthetic-block-{token}-{ti}-{i}-{j}",
                        ),
                        shape=(1, nb + 1, ry.stop - ry.start, cx.stop - cx.start),
                        dtype=np.float32,
                    )
                    for j, cx in enumerate(xs)
                ]
                for i, ry in enumerate(ys)
            ]
        ]
        for ti in range(len(spec.dates))
    ]
    stack = da.block(blocks)
    y, x = spec.grid.coords()
    coords = {
        "time": np.array([np.datetime64(d, "ns") for d in spec.dates]),
        "band": list(spec.bands),
        "y": y,
        "x": x,
    }
    ds = xr.Dataset(
        {
            "reflectance": (("time", "band", "y", "x"), stack[:, :nb]),
            "scl": (("time", "y", "x"), stack[:, nb].astype(np.uint8)),
        },
        coords=coords,
        attrs={
            **grid_attrs(spec.grid),
            "product_level": "L2A",
            "source": f"synthetic(seed={spec.seed})",
            "processing_baseline": spec.processing_baseline,
        },
    )
    return ds, truth
