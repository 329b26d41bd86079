"""The scheduler switch: local threads by default, a dask.distributed cluster by address."""

from __future__ import annotations

import re

import dask.array as da
import numpy as np
import pytest

from mrv.dask_scheduler import dask_scheduler
from mrv.errors import ConfigurationError


def _graph() -> da.Array:
    x = da.from_array(np.arange(1_000_000, dtype=np.float64).reshape(1000, 1000), chunks=250)
    return (x**2).mean(axis=0)


def test_local_threads_by_default() -> None:
    with dask_scheduler(None) as client:
        assert client is None
        np.testing.assert_allclose(
            _graph().compute(), (np.arange(1_000_000.0).reshape(1000, 1000) ** 2).mean(axis=0)
        )


@pytest.mark.enable_socket
def test_unreachable_cluster_is_a_clear_error() -> None:
    expected = re.escape("cannot reach the dask scheduler at tcp://127.0.0.1:9")
    with (
        pytest.raises(ConfigurationError, match=expected),
        dask_scheduler("tcp://127.0.0.1:9", timeout_s=1.0),
    ):
        pass
