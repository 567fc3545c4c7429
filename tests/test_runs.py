"""jazz_lstm.runs: which checkpoint a command uses and why, run locations, and a run's
side files (history.csv, evaluation.json) written and read with checks."""
import json
import os
from pathlib import Path

import pytest

from jazz_lstm.runs import (BUNDLED_MODELS, MAX_EVALUATION_DEPTH, UsageError, checkpoint_path_of,
                            choose_checkpoint, find_checkpoint, history_text, is_bundled,
                            read_evaluation, read_history, seconds_of)


def make_runs(root, ages):
    """runs/NAME/model.safetensors for each NAME, modified `age` seconds ago."""
    for name, age in ages.items():
        path = root / name / "model.safetensors"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"")
        moment = 1_700_000_000 - age
        os.utime(path, (moment, moment))


def test_a_given_checkpoint_or_run_is_taken_as_given(tmp_path):
    assert choose_checkpoint(checkpoint="elsewhere/m.safetensors", runs_root=tmp_path) == \
        (Path("elsewhere/m.safetensors"), "given by --checkpoint")
    chosen = choose_checkpoint(run="mine", runs_root=tmp_path)
    assert chosen == (tmp_path / "mine" / "model.safetensors", "given by --run")
    assert find_checkpoint(run="mine", runs_root=tmp_path) == chosen.path
    with pytest.raises(UsageError, match="either --run NAME or --checkpoint PATH, not both"):
        choose_checkpoint(run="mine", checkpoint="m.safetensors", runs_root=tmp_path)


def test_without_a_choice_the_newest_run_is_used(tmp_path):
    make_runs(tmp_path, {"old": 300, "newest": 10, "middle": 100})
    assert choose_checkpoint(runs_root=tmp_path) == (
        tmp_path / "newest" / "model.safetensors",
        f"the newest of 3 runs in {tmp_path}/, as no --run was given")
    only = tmp_path / "only"
    make_runs(only, {"one": 5})
    assert choose_checkpoint(runs_root=only).reason == f"the only run in {only}/, as no --run was given"


def test_with_no_run_at_all_the_bundled_model_plays(tmp_path):
    tmp_path.joinpath("notes.txt").write_text("no runs here")
    chosen = choose_checkpoint(runs_root=tmp_path)
    assert chosen.path == BUNDLED_MODELS["jazz"] and is_bundled(chosen.path)
    assert "the bundled jazz model" in chosen.reason and f"no trained model in {tmp_path}/" in chosen.reason
    by_name = choose_checkpoint(run="jazz", runs_root=tmp_path)
    assert by_name.path == BUNDLED_MODELS["jazz"] and f"there is no {tmp_path}/jazz/" in by_name.reason


def test_a_run_folder_named_like_the_bundled_model_wins(tmp_path):
    make_runs(tmp_path, {"jazz": 1})
    assert choose_checkpoint(run="jazz", runs_root=tmp_path) == (
        tmp_path / "jazz" / "model.safetensors", "given by --run")
    assert not is_bundled(tmp_path / "jazz" / "model.safetensors")


def test_a_run_is_located_by_folder_checkpoint_or_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tmp_path.joinpath("run").mkdir()
    assert checkpoint_path_of(tmp_path / "run") == tmp_path / "run" / "model.safetensors"
    assert checkpoint_path_of("run") == Path("run/model.safetensors")
    assert checkpoint_path_of("some/file.safetensors") == Path("some/file.safetensors")
    assert checkpoint_path_of("jazz") == BUNDLED_MODELS["jazz"]
    tmp_path.joinpath("jazz").mkdir()
    assert checkpoint_path_of("jazz") == Path("jazz/model.safetensors")
    for wrong in (None, 3, ["run"], b"run"):
        with pytest.raises(UsageError, match="a run is named by its folder or checkpoint path"):
            checkpoint_path_of(wrong)


def test_history_text_by_hand():
    assert history_text([(1, 2.5, 0.25, 1.5)]) == "epoch,loss,accuracy,seconds\n1,2.5,0.25,1.5\n"
    assert history_text([(1, 2.5, 0.25, "", 3.0, 0.5)], validated=True) == (
        "epoch,loss,accuracy,seconds,val_loss,val_accuracy\n1,2.5,0.25,,3.0,0.5\n")


def test_a_history_reads_back_as_numbers_with_blanks_left_out(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(history_text([(1, 2.5, 0.25, 1.5), (2, 2.0, 0.5, "")]))
    assert read_history(path) == [{"epoch": 1, "loss": 2.5, "accuracy": 0.25, "seconds": 1.5},
                                  {"epoch": 2, "loss": 2.0, "accuracy": 0.5}]
    assert type(read_history(path)[0]["epoch"]) is int


@pytest.mark.parametrize("content", [
    "epoch,loss\nx,1.0\n", "epoch,loss\n1.5,1.0\n", b"\xff\xfe", "epoch,loss\n1,one\n"])
def test_an_unreadable_history_is_no_history(tmp_path, content):
    path = tmp_path / "history.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert read_history(path) == []
    assert read_history(tmp_path / "absent.csv") == []
    assert read_history(tmp_path) == []     # a folder


def test_seconds_of_keep_a_resumed_runs_timings_and_blank_the_rest(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,accuracy,seconds\n1,2,0.1,1.5\n2,2,0.1,\n3,2,0.1,nan\n4,2,0.1,4\n")
    assert seconds_of(path, 3) == [1.5, "", ""]
    assert seconds_of(path, 5) == [1.5, "", "", 4.0, ""]
    assert seconds_of(tmp_path / "absent.csv", 2) == ["", ""]


def nested(depth):
    value = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_an_evaluation_is_a_json_object_nested_at_most_eight_deep(tmp_path):
    path = tmp_path / "evaluation.json"
    assert read_evaluation(path) is None
    path.write_text(json.dumps({"nats": 2.5, "sections": [1, 2]}))
    assert read_evaluation(path) == {"nats": 2.5, "sections": [1, 2]}
    path.write_text(json.dumps(nested(MAX_EVALUATION_DEPTH)))
    assert read_evaluation(path) == nested(MAX_EVALUATION_DEPTH)
    assert MAX_EVALUATION_DEPTH == 8


@pytest.mark.parametrize("content", [
    "[1, 2]", "not json", '"text"', json.dumps(nested(9)), "[" * 100_000, b"\xff"])
def test_any_other_evaluation_file_is_one_error_naming_it(tmp_path, content):
    path = tmp_path / "evaluation.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UsageError) as error:
        read_evaluation(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "run `evaluate` again or delete it" in message
    assert "\n" not in message


def test_an_evaluation_that_is_a_folder_or_too_big_is_refused(tmp_path):
    folder = tmp_path / "evaluation.json"
    folder.mkdir()
    with pytest.raises(UsageError, match="evaluation.json"):
        read_evaluation(folder)
    big = tmp_path / "big.json"
    big.write_text('{"a": "' + "x" * (1024 * 1024) + '"}')
    with pytest.raises(UsageError, match="big.json"):
        read_evaluation(big)
