"""Where dask work runs: the local threaded scheduler (the embedded default) or a
dask.distributed cluster given by address (``--scheduler tcp://host:8786`` or
``MRV_DASK_SCHEDULER``). The same graphs run on both; only the executor changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dask

from mrv.errors import ConfigurationError


@contextmanager
def dask_scheduler(
    address: str | None = None, *, threads: int | None = None, timeout_s: float = 10.0
) -> Iterator[Any]:
    """Run the enclosed dask computations locally (threads) or on the cluster at ``address``.

    Yields the ``distributed.Client`` for a cluster, else ``None``. A cluster that cannot be
    reached is a configuration error naming the address.
    """
    if not address:
        with dask.config.set(scheduler="threads", num_workers=threads):
            yield None
        return
    from distributed import Client

    try:
        client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ConfigurationError(f"cannot reach the dask scheduler at {address}: {exc}") from exc
    try:
        with dask.config.set(scheduler=client.get):
            yield client
    finally:
        client.close()
