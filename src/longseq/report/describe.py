"""`longseq describe`: the table of data sets as ingested, the table a reader checks first."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core import data


def describe_datasets(folders: list[str | Path]) -> pd.DataFrame:
    """One row per ingested data set: where it comes from, real or synthetic, its size, classes
    and length spread (steps over all splits)."""
    rows = []
    for folder in folders:
        ds = data.load(folder)
        lengths = pd.Series([n for split in ds.splits.values() for n in split.lengths])
        rows.append(
            {
                "dataset": ds.meta.get("name", Path(folder).name),
                "source": ds.meta.get("source", ""),
                "real": "synthetic" if ds.meta.get("synthetic") else "real",
                "kind": ds.kind,
                "records": "/".join(str(len(ds.splits[s])) for s in data.SPLITS),
                "split": ds.meta.get("split_policy", ""),
                "classes": len(ds.classes),
                "class_names": ", ".join(ds.classes),
                "length_min": int(lengths.min()),
                "length_median": float(lengths.median()),
                "length_max": int(lengths.max()),
            }
        )
    return pd.DataFrame(rows)


def write_dataset_table(folders, out_csv) -> pd.DataFrame:
    table = describe_datasets(folders)
    data.atomic_write_bytes(out_csv, table.to_csv(index=False).encode())
    return table
