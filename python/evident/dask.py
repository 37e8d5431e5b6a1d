"""``evident.batch`` over a Dask DataFrame: each partition goes through the library's native
batch (``map_partitions``), so a cluster fits many analyses with every core of every worker.

Needs ``dask[dataframe]`` (``pip install "./python[dask]"``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

import evident


def _partition(part: pd.DataFrame, analysis: str, options: dict, meta: pd.DataFrame):
    if part.empty:
        return meta
    # The native batch wants the rows of an analysis together; a shuffle leaves them interleaved.
    part = part.sort_values(analysis, kind="stable")
    return evident.batch(part, analysis, **options)


def batch(ddf: Any, analysis: str = "analysis", **options: Any) -> Any:
    """One row per analysis of the Dask DataFrame ``ddf``, as :func:`evident.batch` (same
    options): a lazy Dask DataFrame, one partition of results per partition of ``ddf``.

    Every analysis must lie in one partition (``ddf.shuffle(on=analysis)`` or ``set_index``
    arranges that); this is checked first, with one pass over the analysis column, and an
    analysis split over partitions raises :class:`evident.InputError` rather than giving two
    partial results. Rows are ordered by analysis within each partition.
    """
    names = ddf[analysis].astype(str).map_partitions(
        lambda s: pd.Series(s.unique()), meta=(analysis, object)
    )
    counts = names.value_counts().compute()
    split = counts[counts > 1]
    if len(split):
        shown = ", ".join(map(str, split.index[:5]))
        raise evident.InputError(
            f"analyses {shown} lie in more than one partition: partition the data by the "
            f"analysis column first (ddf.shuffle(on={analysis!r}))"
        )
    # The columns (ratio measures add *_exp) come from the header: one row of dask's sample data.
    meta = evident.batch(ddf._meta_nonempty.head(1), analysis, **options).iloc[:0]
    return ddf.map_partitions(_partition, analysis, options, meta, meta=meta)
