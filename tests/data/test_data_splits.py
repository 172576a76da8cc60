"""Splits by document hash: stable, disjoint, covering, independent of row order, sized by
the ratios, and equal to a blake2b computed here by hand."""

import hashlib

import numpy as np
import polars as pl

from atelier.data import load
from atelier.data.splits import assign_splits, select_split

RATIOS = {"train": 0.8, "val": 0.1, "test": 0.1}


def test_assignment_matches_a_hand_computed_hash():
    keys = [f"document number {i}" for i in range(200)]
    got = assign_splits(keys, RATIOS)
    for key, split in zip(keys, got):
        u = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") / 2**64
        assert split == ("train" if u < 0.8 else "val" if u < 0.9 else "test")


def test_sizes_follow_ratios_and_row_order_does_not_matter():
    keys = [f"doc-{i}" for i in range(20_000)]
    splits = assign_splits(keys, RATIOS)
    for name, ratio in RATIOS.items():
        count = (splits == name).sum()
        sigma = np.sqrt(len(keys) * ratio * (1 - ratio))
        assert abs(count - len(keys) * ratio) < 5 * sigma
    permutation = np.random.default_rng(0).permutation(len(keys))
    shuffled = assign_splits([keys[i] for i in permutation], RATIOS)
    assert (shuffled == splits[permutation]).all()


def test_select_split_partitions_the_frame():
    df = pl.DataFrame({"id": [str(i) for i in range(1000)], "text": [f"text {i}" for i in range(1000)]})
    parts = [select_split(df, name, RATIOS) for name in RATIOS]
    ids = [set(p["id"]) for p in parts]
    assert sum(map(len, ids)) == df.height and set.union(*ids) == set(df["id"])
    assert select_split(df, "all", RATIOS).height == df.height


def test_dataset_splits_are_stable_and_disjoint():
    train, val, test = (load("fortunes", split) for split in ("train", "val", "test"))
    everything = load("fortunes", "all")
    assert train.height + val.height + test.height == everything.height
    assert not set(train["id"]) & set(val["id"]) and not set(val["id"]) & set(test["id"])
    assert abs(val.height / everything.height - 0.05) < 0.01
    again = select_split(everything, "val", {"train": 0.9, "val": 0.05, "test": 0.05})
    assert again["id"].to_list() == val["id"].to_list()
