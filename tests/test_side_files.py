"""A run's side files are read with size and shape checks (issue 22, cause 6): a damaged
evaluation.json is one error line, a damaged history.csv gives way to the checkpoint's."""
import os
import shutil
import time

import pytest

from tests.test_cli import assert_clean_error, run_cli

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)


def report_with(small_run, tmp_path, name, content):
    """Run `report` on a copy of the run whose side file ``name`` holds ``content``."""
    folder = tmp_path / "copy"
    shutil.copytree(small_run, folder)
    plant(folder / "runs" / "X" / name, content)
    started = time.monotonic()
    result = run_cli("report", "--run", "X", "--out", str(tmp_path / "page.html"), cwd=folder)
    assert time.monotonic() - started < 60
    return result


def plant(path, content):
    if path.exists() or path.is_symlink():
        path.unlink()
    if content == "FIFO":
        os.mkfifo(path)
    elif content == "/dev/zero":
        path.symlink_to(content)
    else:
        path.write_text(content)


@pytest.mark.parametrize("content, fragment", [
    ("[1,2,3]", "not the JSON object `evaluate` writes"),
    ("5", "not the JSON object `evaluate` writes"),
    ("[" * 100_000, "not the JSON object `evaluate` writes"),
    ('{"a": ' + "[" * 20 + "]" * 20 + "}", "not the JSON object `evaluate` writes"),
    ("/dev/zero", "is a character device"),
    ("FIFO", "is a FIFO"),
])
def test_a_damaged_evaluation_json_is_one_error_line(small_run, tmp_path, content, fragment):
    result = report_with(small_run, tmp_path, "evaluation.json", content)
    assert_clean_error(result, "evaluation.json", fragment)
    assert not (tmp_path / "page.html").exists()


@pytest.mark.parametrize("content", ["/dev/zero", "FIFO", "epoch,loss\nx,y\n"])
def test_a_damaged_history_csv_gives_way_to_the_checkpoints_history(small_run, tmp_path,
                                                                    content):
    result = report_with(small_run, tmp_path, "history.csv", content)
    assert result.returncode == 0, result.stderr
    assert "2 epochs" in (tmp_path / "page.html").read_text()


def test_an_evaluation_json_of_an_older_version_still_makes_the_page(small_run, tmp_path):
    # evaluate wrote the similarity figures under "features" and the longest copy as
    # "longest_run" before docs/glossary.md; report shows whatever figures the file holds.
    older = ('{"summary": "held-out CE 3.10", "similarity": {"lstm": {"mean_oa": 0.8, '
             '"features": {"pitch_range": {"oa": 0.8, "kl": 0.1}}}}, '
             '"copying": {"lstm": {"share_8": 0.2, "share_16": 0.0, "longest_run": 19}}}')
    result = report_with(small_run, tmp_path, "evaluation.json", older)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "page.html").read_text()
    assert "held-out CE 3.10" in page and "pitch_range" in page and "longest_run" in page
