"""train and resume claim their run folder (issue 22, cause 11): a second train or resume of a
folder being trained is refused with one line, in this process or another, a finished run's
files are kept unless overwrite=True, and a failure or interrupt frees the folder."""
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import jazz_lstm
from jazz_lstm.files import CLAIM_NAME, RunInUseError, training_claim
from jazz_lstm.progress import Silent
from jazz_lstm.training import TrainingInterrupted
from music.song import MusicError
from tests.test_cli import SMALL_PIECE, assert_clean_error, run_cli

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)

REPO = Path(__file__).resolve().parents[1]
TINY = dict(data=[SMALL_PIECE], hidden=4, seed=0, progress=False)


class During(Silent):
    """A progress style that calls ``action`` after the first epoch it sees, keeping what
    it raised."""

    def __init__(self, action):
        self.action, self.raised, self.called = action, [], False

    def epoch(self, row):
        if not self.called:
            self.called = True
            try:
                self.action()
            except Exception as error:       # noqa: BLE001 - kept for the test to look at
                self.raised.append(error)


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_second_train_into_a_folder_being_trained_is_refused(tmp_path, overwrite):
    folder = tmp_path / "runs" / "demo"
    second = During(lambda: jazz_lstm.train(**{**TINY, "epochs": 5}, run_dir=folder,
                                            overwrite=overwrite))
    run = jazz_lstm.train(**{**TINY, "progress": second, "epochs": 3}, run_dir=folder)
    [error] = second.raised
    assert isinstance(error, RunInUseError) and isinstance(error, jazz_lstm.UsageError)
    assert str(error) == (f"{folder} is being trained by process {os.getpid()}; wait for it to "
                          "end or choose another run folder")
    assert run.record.epoch == 3 and [row["epoch"] for row in run.history] == [1, 2, 3]
    assert sorted(os.listdir(folder)) == ["history.csv", "model.safetensors"]


def test_resume_of_a_folder_being_trained_is_refused(tmp_path):
    folder = tmp_path / "runs" / "demo"
    jazz_lstm.train(**TINY, epochs=1, run_dir=folder)
    second = During(lambda: jazz_lstm.resume(folder, epochs=9, progress=False))
    run = jazz_lstm.resume(folder, epochs=3, progress=second)
    assert [type(error) for error in second.raised] == [RunInUseError]
    assert [row["epoch"] for row in run.history] == [1, 2, 3]


@pytest.mark.parametrize("present", ["model.safetensors", "history.csv", "evaluation.json"])
def test_a_finished_runs_files_are_kept_unless_overwrite(tmp_path, present):
    folder = tmp_path / "runs" / "demo"
    jazz_lstm.train(**TINY, epochs=1, run_dir=folder)
    (folder / "evaluation.json").write_text("{}", encoding="utf-8")
    for name in {"model.safetensors", "history.csv", "evaluation.json"} - {present}:
        (folder / name).unlink()
    kept = (folder / present).read_bytes()
    with pytest.raises(jazz_lstm.UsageError, match=f"{present} already exists; use resume"):
        jazz_lstm.train(**TINY, epochs=2, run_dir=folder)
    assert os.listdir(folder) == [present] and (folder / present).read_bytes() == kept
    run = jazz_lstm.train(**TINY, epochs=2, run_dir=folder, overwrite=True)
    assert [row["epoch"] for row in run.history] == [1, 2]
    assert sorted(os.listdir(folder)) == ["history.csv", "model.safetensors"]


def test_a_failure_frees_the_claim_and_the_folder_it_made(tmp_path):
    made, given = tmp_path / "runs" / "new", tmp_path / "runs" / "given"
    given.mkdir(parents=True)
    for folder in (made, given):
        with pytest.raises(MusicError, match="no such file"):
            jazz_lstm.train(**{**TINY, "data": [str(tmp_path / "absent.mid")]}, epochs=1,
                            run_dir=folder)
    assert not made.exists()
    assert given.is_dir() and os.listdir(given) == []    # not ours to remove
    assert jazz_lstm.train(**TINY, epochs=1, run_dir=made).record.epoch == 1


def test_an_interrupt_frees_the_claim(tmp_path):
    folder = tmp_path / "runs" / "demo"

    def interrupt():
        raise KeyboardInterrupt

    class Interrupting(Silent):
        def epoch(self, row):
            if row["epoch"] == 2:
                interrupt()

    with pytest.raises(TrainingInterrupted):
        jazz_lstm.train(**{**TINY, "progress": Interrupting()}, epochs=9, run_dir=folder)
    assert not (folder / CLAIM_NAME).exists()
    assert jazz_lstm.resume(folder, epochs=3, progress=False).record.epoch == 3


def test_a_claim_is_one_lock_that_its_holders_death_releases(tmp_path):
    folder = tmp_path / "run"
    with training_claim(folder, create=True):
        assert (folder / CLAIM_NAME).read_text() == f"{os.getpid()}\n"
        with pytest.raises(RunInUseError, match=f"by process {os.getpid()}"):
            with training_claim(folder):
                pass
    assert os.listdir(folder) == []
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from jazz_lstm.files import training_claim
        with training_claim({str(folder)!r}):
            print("held", flush=True)
            time.sleep(60)
        """)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(RunInUseError, match=f"by process {holder.pid}"):
        with training_claim(folder):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert (folder / CLAIM_NAME).exists()          # left by kill -9, yet no claim
    with training_claim(folder):
        pass
    assert os.listdir(folder) == []


TRAINER = """
import sys, time
from pathlib import Path
import jazz_lstm
from jazz_lstm.progress import Silent

class Gate(Silent):
    # after the first epoch, wait until the test opens the gate
    def epoch(self, row):
        if row["epoch"] == 1 and len(sys.argv) > 3:
            print("epoch 1", flush=True)
            while not Path(sys.argv[3]).exists():
                time.sleep(0.05)

try:
    run = jazz_lstm.train(data=[{piece!r}], hidden=4, seed=0, epochs=int(sys.argv[2]),
                          run_dir=sys.argv[1], progress=Gate())
except jazz_lstm.UsageError as error:
    print(f"error: {{error}}", file=sys.stderr)
    sys.exit(2)
print(f"trained {{run.record.epoch}}", flush=True)
""".format(piece=SMALL_PIECE)


def trainer(folder, epochs, *gate):
    return subprocess.Popen([sys.executable, "-c", TRAINER, str(folder), str(epochs), *map(str, gate)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_training_into_one_folder_one_is_refused(tmp_path):
    folder, gate = tmp_path / "runs" / "demo", tmp_path / "gate"
    first = trainer(folder, 3, gate)
    assert first.stdout.readline() == "epoch 1\n"
    second = trainer(folder, 4)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 2, err
    assert err == (f"error: {folder} is being trained by process {first.pid}; wait for it to end "
                   "or choose another run folder\n")
    # the command line's resume of it too: one error line, status 2
    resumed = run_cli("train", "--resume", "--run", "demo", "--epochs", "9", cwd=tmp_path)
    assert_clean_error(resumed, f"runs/demo is being trained by process {first.pid}")
    gate.touch()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0 and out == "trained 3\n", err
    lines = (folder / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3"]


def test_two_processes_started_together_one_run_and_one_refusal(tmp_path):
    folder = tmp_path / "runs" / "demo"
    processes = {epochs: trainer(folder, epochs) for epochs in (3, 4)}
    results = {epochs: process.communicate(timeout=120) + (process.returncode,)
               for epochs, process in processes.items()}
    won = [epochs for epochs, (_, _, code) in results.items() if code == 0]
    assert len(won) == 1, results
    [(_, err, code)] = [result for epochs, result in results.items() if epochs not in won]
    assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert ("is being trained by process" in err or "already exists" in err), err
    run = jazz_lstm.open_run(folder)
    assert run.record.epoch == won[0] and len(run.history) == won[0]
    assert sorted(os.listdir(folder)) == ["history.csv", "model.safetensors"]
