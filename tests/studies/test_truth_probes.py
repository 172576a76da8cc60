"""Study 06 building blocks against independent references: AUROC, probes, supports, grading."""

import itertools

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from atelier.studies.truth_probes import grading, mixtures, probes, tasks
from atelier.studies.truth_probes.experiments import random_jaccard


def test_auroc_equals_sklearn_with_ties_and_many_columns():
    rng = np.random.default_rng(0)
    y = rng.random(60) < 0.4
    scores = rng.integers(0, 5, size=(60, 3)).astype(float)  # many ties
    want = [roc_auc_score(y, scores[:, k]) for k in range(3)]
    np.testing.assert_allclose(probes.auroc(y, scores), want)
    assert probes.auroc(y, scores[:, 1]) == pytest.approx(want[1])


def test_auroc_of_a_single_class_is_nan():
    assert np.isnan(probes.auroc(np.ones(5, bool), np.arange(5.0)))


def test_mass_mean_direction_is_the_difference_of_class_means():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(9, 4)), np.array([1, 0, 1, 1, 0, 0, 0, 1, 0], bool)
    pos = sum(X[i] for i in range(9) if y[i]) / y.sum()
    neg = sum(X[i] for i in range(9) if not y[i]) / (~y).sum()
    np.testing.assert_allclose(probes.mass_mean(X, y), pos - neg)


def test_jaccard_on_hand_made_sets():
    assert probes.jaccard({1, 2, 3}, {2, 3, 4}) == pytest.approx(2 / 4)
    assert probes.jaccard({1}, {2}) == 0.0
    assert probes.jaccard({5, 6}, {6, 5}) == 1.0


def test_random_jaccard_matches_brute_force_over_all_subset_pairs():
    d, k = 6, 2
    subsets = [set(s) for s in itertools.combinations(range(d), k)]
    brute = np.mean([probes.jaccard(a, b) for a in subsets for b in subsets])
    assert random_jaccard(k, d) == pytest.approx(brute)


def test_support_at_takes_the_top_k_at_the_first_point_with_enough_nonzeros():
    path = np.array([[0.0, 0.5, 0.0, 0.0],
                     [0.1, 0.9, 0.0, -0.3],
                     [0.4, 1.0, 0.2, -0.6]])
    assert probes.support_at(path, 1) == {1}
    assert probes.support_at(path, 2) == {1, 3}  # second row: |0.9|, |-0.3| beat 0.1
    assert probes.support_at(path, 4) == {0, 1, 2, 3}  # never reached: the last point


def synthetic_tasks(n=200, d=20, seed=0):
    """Two tasks in separate regions, each with its truth along its own axis (0 and 1)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n, d))
    task = np.repeat(["a", "b"], n)
    y = np.where(task == "a", X[:, 0] > 0, X[:, 1] > 0)
    X[task == "b", 5] += 8.0  # task b sits far away along axis 5
    return X, y, task


def test_probes_detect_truth_in_task_and_do_not_transfer_between_orthogonal_tasks():
    X, y, task = synthetic_tasks()
    matrix, directions = probes.transfer_matrix(X, y, task, ["a", "b"], probes.logistic(1.0), n_folds=4)
    assert matrix[0, 0] > 0.95 and matrix[1, 1] > 0.95
    assert abs(matrix[0, 1] - 0.5) < 0.1 and abs(matrix[1, 0] - 0.5) < 0.1
    assert abs(probes.cosine_matrix(directions)[0, 1]) < 0.2


def test_cv_auroc_scores_only_held_out_examples():
    """Labels independent of X: a probe that memorised its test examples would score far above 0.5."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(80, 200)), rng.random(80) < 0.5
    assert abs(probes.cv_auroc(X, y, probes.logistic(100.0), n_folds=4) - 0.5) < 0.2


def test_mixture_routes_by_cluster_and_fails_on_a_held_out_task():
    X, y, task = synthetic_tasks()
    fit = probes.logistic(1.0)
    mix = mixtures.in_distribution("mixture", X, y, task, ["a", "b"], fit, n_folds=4)
    held = mixtures.held_out_task("mixture", X, y, task, ["a", "b"], fit)
    assert (mix > 0.9).all() and (np.abs(held - 0.5) < 0.1).all()
    with pytest.raises(ValueError, match="valid kinds: pooled, mixture"):
        mixtures.make_probe("ensemble", fit, 2, 0)


@pytest.mark.parametrize("text, want", [("São Paulo!", "sao paulo"), ("  The U.S.A. ", "the u s a"),
                                        ("Côte d'Ivoire", "cote d ivoire")])
def test_normalise_strips_accents_case_and_punctuation(text, want):
    assert grading.normalise(text) == want


def test_graders_on_hand_cases():
    assert grading.mentions("the Philippines.", ["Philippines"])
    assert grading.mentions("MÉXICO, in North America", ["Mexico"])
    assert not grading.mentions("Franceville", ["France"])  # whole words only
    assert grading.first_word_is("fe. It is a metal", "Fe")
    assert not grading.first_word_is("Fluorine.", "F")
    assert grading.number_is("1,024.0 apples", 1024)
    assert not grading.number_is("about 12 or 13", 13)
    assert not grading.number_is("no idea", 3)
    assert grading.first_line("  85\n\nThis is a sum") == "85"


def test_grade_uses_each_rows_grader():
    rows = [tasks.row("t", "q", "p", "Paris", ["Paris"]), tasks.row("t", "q", "p", "Fe", grader="first_word"),
            tasks.row("t", "q", "p", 85, grader="number")]
    frame = pl.DataFrame(rows, schema=tasks.COLUMNS)
    assert tasks.grade(frame, ["It is Paris.", "Fe", "86\n85"]) == [True, True, False]


def test_unknown_task_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid tasks: city_country"):
        tasks.build_questions(("astrology",), 3, 0)


def test_synthetic_tasks_have_the_right_gold_answers():
    qs = tasks.build_questions(("number_compare", "addition"), 20, 0)
    for r in qs.iter_rows(named=True):
        nums = [float(x) for x in grading.NUMBER.findall(r["question"])]
        want = max(nums) if r["task"] == "number_compare" else sum(nums)
        assert float(r["gold"]) == pytest.approx(want)


def test_a_task_with_one_class_gets_nan_not_an_error():
    X, y, task = synthetic_tasks(n=40)
    y[task == "b"] = True
    matrix, _ = probes.transfer_matrix(X, y, task, ["a", "b"], probes.logistic(1.0), n_folds=3)
    assert np.isnan(matrix[1]).all() and np.isnan(matrix[:, 1]).all() and matrix[0, 0] > 0.8
