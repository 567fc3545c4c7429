"""Safe output files and run folders: only regular files are replaced, atomically,
with umask permissions; stale temporary files are cleaned; run names are plain;
a run folder has exactly one owner; outputs never collide."""
import multiprocessing
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jazz_lstm import files as run_folders
from music import files
from jazz_lstm.files import (OutputError, RunExistsError, check_outputs, check_run_name,
                             claim_run_folder, clean_stale_temp_files, write_file_atomically)

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)

REPO = Path(__file__).resolve().parents[1]


def refused_output(path, data=b"new"):
    with pytest.raises(OutputError) as caught:
        write_file_atomically(path, data)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert isinstance(caught.value, OSError)
    return message


def leftovers(folder):
    return [name for name in os.listdir(folder) if files.TEMP_MARK in name]


# ------------------------------------------------------------ writing
def test_writes_the_bytes_creating_parent_folders(tmp_path):
    path = tmp_path / "out" / "deep" / "song.mid"
    assert write_file_atomically(path, b"MThd") == path
    assert path.read_bytes() == b"MThd"
    assert os.listdir(path.parent) == ["song.mid"]


def test_replaces_a_regular_file_as_a_new_file(tmp_path):
    path = tmp_path / "song.mid"
    path.write_bytes(b"old and longer")
    reader = open(path, "rb")  # a reader holding the old file keeps the old bytes
    write_file_atomically(path, b"new")
    assert path.read_bytes() == b"new"
    assert reader.read() == b"old and longer"
    reader.close()
    assert os.listdir(tmp_path) == ["song.mid"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_permissions_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_file_atomically(tmp_path / "a.wav", b"RIFF")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.wav").st_mode) == mode


def test_the_temporary_file_is_named_recognisably_beside_the_target(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(source, target):
        seen.append(Path(source))
        real_replace(source, target)
    monkeypatch.setattr(os, "replace", spy)
    long_name = "x" * 250
    write_file_atomically(tmp_path / long_name, b"data")
    write_file_atomically(tmp_path / "song.mid", b"data")
    assert all(path.parent == tmp_path for path in seen)
    assert re.fullmatch(r"\.x{64}\.jazz-lstm-tmp-%d-[0-9a-f]{8}" % os.getpid(), seen[0].name)
    assert re.fullmatch(r"\.song\.mid\.jazz-lstm-tmp-%d-[0-9a-f]{8}" % os.getpid(), seen[1].name)


def test_a_fifo_is_refused_and_kept(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert "is a FIFO" in refused_output(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(tmp_path) == []


def test_a_symlink_is_refused_and_neither_it_nor_its_target_is_touched(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_bytes(b"keep me")
    link = tmp_path / "song.mid"
    link.symlink_to(target)
    assert "is a symbolic link" in refused_output(link)
    assert link.is_symlink() and target.read_bytes() == b"keep me"
    dangling = tmp_path / "dangling.mid"
    dangling.symlink_to(tmp_path / "nowhere")
    assert "is a symbolic link" in refused_output(dangling)
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "runs").mkdir()
    assert "is a folder" in refused_output(tmp_path / "runs")
    assert "is a folder" in refused_output(tmp_path)


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert "is a socket" in refused_output(path)
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_node_is_refused_and_kept(tmp_path):
    null = tmp_path / "null"  # a private twin of /dev/null: same major and minor numbers
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    assert "is a character device" in refused_output(null)
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_a_fifo_appearing_during_the_write_is_still_refused(tmp_path, monkeypatch):
    path = tmp_path / "song.mid"
    real_fsync = os.fsync

    def fsync_then_race(descriptor):
        real_fsync(descriptor)
        if not path.exists():
            os.mkfifo(path)
    monkeypatch.setattr(os, "fsync", fsync_then_race)
    assert "is a FIFO" in refused_output(path)
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), OSError(28, "No space left on device")])
def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch, failure):
    path = tmp_path / "song.mid"
    path.write_bytes(b"old")

    def fail(descriptor):
        raise failure
    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(type(failure)):
        write_file_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["song.mid"]


def test_a_parent_that_is_a_file_fails_clearly(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OSError):
        write_file_atomically(tmp_path / "file" / "song.mid", b"x")


# ------------------------------------------------------------ stale temporary files
def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path):
    dead = dead_pid()
    stale = [tmp_path / f".song.mid{files.TEMP_MARK}{dead}-0a1b2c3d",
             tmp_path / f".x{files.TEMP_MARK}0-ff",
             tmp_path / f".x{files.TEMP_MARK}{10**30}-ff"]
    kept = [tmp_path / f".mine{files.TEMP_MARK}{os.getpid()}-0a1b2c3d",
            tmp_path / f".init{files.TEMP_MARK}1-0a1b2c3d",  # pid 1 always runs
            tmp_path / "song.mid", tmp_path / f"song{files.TEMP_MARK}{dead}-00",
            tmp_path / f".model.safetensors.{dead}.tmp"]
    for path in stale + kept:
        path.write_bytes(b"partial")
    folder_like = tmp_path / f".dir{files.TEMP_MARK}{dead}-00"
    folder_like.mkdir()
    link_like = tmp_path / f".link{files.TEMP_MARK}{dead}-00"
    link_like.symlink_to(tmp_path / "song.mid")

    assert clean_stale_temp_files(tmp_path) == sorted(stale)
    assert sorted(tmp_path.iterdir()) == sorted(kept + [folder_like, link_like])


def test_cleaning_a_missing_folder_finds_nothing(tmp_path):
    assert clean_stale_temp_files(tmp_path / "absent") == []


def test_a_writer_killed_mid_write_leaves_a_temporary_file_that_the_next_start_cleans(tmp_path):
    script = ("import os, signal, sys\n"
              "from jazz_lstm.files import write_file_atomically\n"
              "os.fsync = lambda descriptor: os.kill(os.getpid(), signal.SIGKILL)\n"
              "write_file_atomically(sys.argv[1], b'half')\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "song.mid")], cwd=REPO,
                          timeout=30)
    assert done.returncode == -signal.SIGKILL
    (left,) = leftovers(tmp_path)
    assert clean_stale_temp_files(tmp_path) == [tmp_path / left]
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------ distinct outputs
def test_distinct_outputs_pass(tmp_path):
    check_outputs([tmp_path / "a.mid", tmp_path / "a.wav", None, tmp_path / "b" / "a.mid"])


@pytest.mark.parametrize("other", ["./song.mid", "sub/../song.mid", "SONG_LINK", "HARD_LINK"])
def test_the_same_file_twice_is_refused(tmp_path, monkeypatch, other):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    if other in ("SONG_LINK", "HARD_LINK"):
        (tmp_path / "song.mid").write_bytes(b"")
        link = tmp_path / "other.mid"
        link.symlink_to(tmp_path / "song.mid") if other == "SONG_LINK" else os.link(
            tmp_path / "song.mid", link)
        other = "other.mid"
    with pytest.raises(OutputError) as caught:
        check_outputs(["song.mid", None, other])
    assert str(caught.value) == (f"outputs 'song.mid' and {other!r} are the same file; "
                                 "give each output its own path")


# ------------------------------------------------------------ run names
@pytest.mark.parametrize("name", ["small", "20260509-073525", "metheny_v2.1", "_x", "A" * 100])
def test_plain_run_names_are_accepted(name):
    assert check_run_name(name) == name


@pytest.mark.parametrize("name, expected", [
    ("", "empty"),
    ("a/b", "path separator"),
    ("/abs", "path separator"),
    ("..\\up", "path separator"),
    ("..", "holds '..'"),
    ("a..b", "holds '..'"),
    (".hidden", "must start with a letter"),
    ("-rf", "must start with a letter"),
    ("has space", "only letters, digits"),
    ("tab\there", "only letters, digits"),
    ("new\nline", "only letters, digits"),
    ("café", "only letters, digits"),
    ("a" * 101, "101 characters, more than 100"),
    (None, "a run name is text, not NoneType"),
])
def test_bad_run_names_are_refused_with_one_line(name, expected):
    with pytest.raises(ValueError) as caught:
        check_run_name(name)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


@given(st.text(st.sampled_from("az09._-/\\ \n\u00e9") | st.characters(), max_size=120))
def test_an_accepted_run_name_is_always_one_plain_folder_inside_the_root(name):
    try:
        check_run_name(name)
    except ValueError:
        return
    assert Path(name).name == name and not name.startswith((".", "-"))
    assert os.path.normpath(os.path.join("/runs", name)) == "/runs/" + name


@given(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}", fullmatch=True))
def test_names_of_the_allowed_characters_are_accepted(name):
    assert check_run_name(name) == name


# ------------------------------------------------------------ run folders
def test_claiming_a_named_run(tmp_path):
    folder = claim_run_folder(tmp_path / "runs", "small")
    assert folder == tmp_path / "runs" / "small" and folder.is_dir()
    with pytest.raises(RunExistsError) as caught:
        claim_run_folder(tmp_path / "runs", "small")
    assert str(caught.value) == (f"run 'small' already exists in {tmp_path / 'runs'}; continue it "
                                 "with --resume --run small or choose another --run NAME")


def test_a_bad_name_creates_nothing(tmp_path):
    with pytest.raises(ValueError):
        claim_run_folder(tmp_path / "runs", "../escape")
    assert not (tmp_path / "escape").exists()
    assert list((tmp_path / "runs").iterdir()) == []


def test_default_names_are_the_time_then_a_counter(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        moment = 1778312125.7  # 2026-05-09 07:35:25.7 UTC
        names = [claim_run_folder(tmp_path, None, now=moment).name for _ in range(3)]
    finally:
        monkeypatch.undo()
        time.tzset()
    assert names == ["20260509-073525", "20260509-073525-2", "20260509-073525-3"]


def test_default_names_run_out_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(run_folders, "MAX_DEFAULT_NAME_ATTEMPTS", 2)
    claim_run_folder(tmp_path, None, now=0)
    claim_run_folder(tmp_path, None, now=0)
    with pytest.raises(RunExistsError, match="choose a name with --run NAME"):
        claim_run_folder(tmp_path, None, now=0)


def claim_in_child(barrier, root, name, results):
    barrier.wait()
    try:
        results.put(str(claim_run_folder(root, name, now=0)))
    except RunExistsError:
        results.put("lost")


@pytest.mark.parametrize("name", ["race", None])
def test_processes_claiming_at_once_never_share_a_folder(tmp_path, name):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(4), context.Queue()
    children = [context.Process(target=claim_in_child, args=(barrier, tmp_path, name, results))
                for _ in range(4)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=30)
    won = [outcome for outcome in outcomes if outcome != "lost"]
    if name is None:
        assert len(set(won)) == 4
    else:
        assert won == [str(tmp_path / "race")] and outcomes.count("lost") == 3
