"""The dask client a batch or tiled run works on: a given client, a running scheduler, or a LocalCluster."""
from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from netopt._errors import InputError, NetoptError


@contextmanager
def dask_client(scheduler: str | None, workers: int | None, client=None) -> Iterator:
    """`client` if given; else a Client of the scheduler at address `scheduler`; else a LocalCluster of `workers`
    single-threaded processes (default one per core), closed on leaving."""
    if client is not None:
        yield client
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise NetoptError("runs on a cluster need dask.distributed: pip install 'netopt[batch]' "
                          "(or use scheduler='serial')") from None
    if scheduler:
        if not isinstance(scheduler, str) or ":" not in scheduler:
            raise InputError(f"scheduler is 'serial', None (a local cluster) or a running dask scheduler's address "
                             f"such as tcp://10.0.0.5:8786; got {scheduler!r}", file="scheduler")
        try:
            remote = Client(scheduler)
        except OSError as err:  # the scheduler is not running there, or the address is wrong
            raise NetoptError(f"cannot reach the dask scheduler at {scheduler} ({err}): is it running (`dask "
                              "scheduler`), and is the address right? Or run without one: scheduler='serial' "
                              "(--scheduler serial)") from None
        with remote:
            yield remote
        return
    try:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    except RuntimeError as err:  # e.g. "Nanny failed to start." when each worker re-ran an unguarded script
        raise NetoptError(f"the dask workers did not start ({err}). dask starts each worker by re-running the "
                          "script: a script that runs on a LocalCluster must make the call under "
                          "'if __name__ == \"__main__\":' (or use scheduler='serial', or a running scheduler's "
                          "address)") from None
    with cluster, Client(cluster) as local:
        yield local


def map_tasks(client, func, items: list, keys: list[str], **kwargs) -> list:
    """client.map with each task's inputs inside the task: a worker that dies loses no input, so dask can rerun
    its tasks elsewhere (scattered inputs would die with it). Hence no warning about the graph's size."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        return client.map(func, items, key=keys, pure=False, **kwargs)
