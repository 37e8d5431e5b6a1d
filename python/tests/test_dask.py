"""evident.dask.batch on a local Dask cluster equals the in-process batch."""

from __future__ import annotations

import pandas as pd
import pytest

import evident as ev
from test_batch import long_frame

dd = pytest.importorskip("dask.dataframe")
import dask  # noqa: E402

import evident.dask  # noqa: E402


def in_process(df: pd.DataFrame) -> pd.DataFrame:
    return ev.batch(df, measure="OR", method="REML").set_index("analysis").sort_index()


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_dask_batch_equals_batch(scheduler):
    df = long_frame()
    ddf = dd.from_pandas(df, npartitions=4).shuffle(on="analysis", npartitions=3)
    with dask.config.set(scheduler=scheduler):
        got = evident.dask.batch(ddf, measure="OR", method="REML").compute()
    got = got.set_index("analysis").sort_index()
    pd.testing.assert_frame_equal(got, in_process(df), check_exact=True)


def test_distributed_local_cluster():
    distributed = pytest.importorskip("dask.distributed")
    df = long_frame()
    ddf = dd.from_pandas(df, npartitions=4).shuffle(on="analysis", npartitions=2)
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as c:
        with distributed.Client(c):
            got = evident.dask.batch(ddf, measure="OR", method="REML").compute()
    pd.testing.assert_frame_equal(got.set_index("analysis").sort_index(), in_process(df),
                                  check_exact=True)


def test_analysis_split_over_partitions_is_refused():
    df = long_frame()
    ddf = dd.from_pandas(df, npartitions=7, sort=False)
    with pytest.raises(ev.InputError, match="more than one partition"):
        evident.dask.batch(ddf, measure="OR")
