"""bench.targets reads the performance targets off a results table (no timing here)."""

import polars as pl

from bench.targets import check


def _rows(section, name, **metrics):
    return [{"section": section, "name": name, "metric": m, "value": v, "unit": "", "spread": 0.0, "note": ""}
            for m, v in metrics.items()]


def test_targets_read_the_largest_size_and_the_best_threshold_within_one_accuracy_point():
    rows = (_rows("train_step", "w256 ar", **{"lightning eager MFU": 50.0, "lightning overhead": 9.0})
            + _rows("train_step", "w512 ar", **{"lightning eager MFU": 70.0, "lightning compiled MFU": 80.0,
                                                 "lightning overhead": 6.0})
            + _rows("masked_loss", "m", **{"full logits time": 10.0, "masked rows time": 4.0,
                                           "full logits memory": 8.0, "masked rows memory": 9.0})
            + _rows("samplers", "one per call (top-k k=1)", **{"accuracy": 90.0, "tokens per call": 1.0})
            + _rows("samplers", "threshold tau=0.9", **{"accuracy": 89.5, "tokens per call": 2.0})
            + _rows("samplers", "threshold tau=0.5", **{"accuracy": 80.0, "tokens per call": 4.0})
            + _rows("runner", "one run", **{"overhead beyond kernel start": 1.5}))
    table = {r["target"]: r for r in check(pl.DataFrame(rows)).iter_rows(named=True)}
    mfu = table["training MFU (best of eager, compiled), w512 ar"]
    assert mfu["measured"] == 80.0 and mfu["met"]
    assert table["Lightning overhead, w512 ar"]["met"] is False  # 6% > 5%
    assert table["masked-rows loss time / full logits, m"]["measured"] == 0.4
    assert table["masked-rows loss memory / full logits, m"]["met"] is False
    threshold = next(r for t, r in table.items() if t.startswith("threshold"))
    assert threshold["measured"] == 2.0 and not threshold["met"]  # tau=0.5 loses 10 points: not eligible
    assert table["runner overhead per run"]["met"]
    assert not any(t.endswith(" mdm") for t in table)  # sections that did not run give no target


def test_the_mfu_target_follows_the_dtype_the_step_bench_ran_in():
    def target(dtype):
        rows = (_rows("train_step", "peak", **{dtype: 1000.0})
                + _rows("train_step", "w768 ar", **{"lightning eager MFU": 50.0}))
        return check(pl.DataFrame(rows)).row(0, named=True)

    assert target("float32")["threshold"] == 75.0 and not target("float32")["met"]
    assert target("bfloat16")["threshold"] == 40.0 and target("bfloat16")["met"]


def test_no_sections_no_targets():
    assert check(pl.DataFrame(_rows("peak", "matmul 512", float32=1.0))).height == 0
