"""Tasks: checkers accept the true answer (computed here by brute force) and reject wrong ones."""

import random

import pytest

from atelier.data import tasks


def brute_force(example: dict) -> str:
    body = example["prompt"].split(":", 1)[-1].rstrip("=")
    if example["task"] == "addition":
        a, b = body.split("+")
        return str(int(a) + int(b))
    if example["task"] == "sorting":
        return ",".join(sorted(body.split(",")))  # single digits: string order is numeric order
    return "".join(reversed(body))


@pytest.mark.parametrize("task", list(tasks.TASKS))
@pytest.mark.parametrize("difficulty", [1, 4])
def test_checker_accepts_truth_and_rejects_perturbations(task, difficulty):
    examples = tasks.generate(task, 200, seed=7, difficulty=difficulty)
    rng = random.Random(0)
    for example in examples.iter_rows(named=True):
        truth = brute_force(example)
        assert tasks.check(truth, example) and tasks.check(f" {example['target']}\n", example)
        wrong = list(truth)
        i = rng.randrange(len(wrong))
        wrong[i] = rng.choice([c for c in "0123456789abc" if c != wrong[i] and c != ","]) if wrong[i] != "," else ";"
        assert not tasks.check("".join(wrong), example)
        assert not tasks.check(truth + "1", example) and not tasks.check("", example)


def test_targets_have_fixed_length_and_generation_is_seeded():
    a = tasks.generate("addition", 50, seed=1, difficulty=5)
    assert set(a["target"].str.len_chars()) == {6} and set(a["prompt"].str.len_chars()) == {12}
    assert a.equals(tasks.generate("addition", 50, seed=1, difficulty=5))
    assert not a.equals(tasks.generate("addition", 50, seed=2, difficulty=5))
    assert tasks.check("0042", {"task": "addition", "prompt": "0040+0002="}) and not tasks.check("4 2", {"task": "addition", "prompt": "0040+0002="})
    with pytest.raises(ValueError, match="valid: addition, sorting, reversal"):
        tasks.generate("division", 3)


def test_task_vocab_tensors():
    vocab = tasks.TaskVocab()
    examples = tasks.generate("sorting", 4, seed=0, difficulty=3)
    batch = vocab.tensorize(examples)
    assert batch["tokens"].shape == (4, 1 + len("sort:1,2,3=") + len("1,2,3") + 1)
    for row, mask, (prompt, target) in zip(batch["tokens"], batch["loss_mask"], examples.select("prompt", "target").iter_rows()):
        assert vocab.decode(row.tolist()) == prompt + target
        assert vocab.decode(row[mask].tolist()) == target and row[mask][-1] == vocab.eos_id
    with pytest.raises(ValueError, match="not in the task vocabulary"):
        vocab.encode("SORT")
