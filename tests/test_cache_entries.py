"""Cache entries are data, never code (issue 22, cause 7): no pickle is read back, every
entry is checked and a damaged one rewritten, and an unwritable cache is reported once."""
import json
import os
import pickle

import pytest

from jazz_lstm.corpus import wjazzd_folder_songs
from music.read.cache import SONGS_FORMAT
from music.read.scores import load_songs
from music.song import Chord, Measure, Note, Song
from music.write.midi import write_midi
from tests.test_cli import run_cli
from tests.test_wjazzd_csv import beat_row, note_row, write_solo

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)


class CreatesAFile:
    """Unpickling this object creates the file it names."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def small_midi(path, pitch=60):
    song = Song([Measure(4, [Note(0, 2, pitch), Note(2, 2, pitch + 4)],
                         [Chord(0, 4, 0, (0, 4, 7))])], tempo=120)
    return write_midi(song, path)


def only_entry(folder):
    (entry,) = [path for path in folder.iterdir() if not path.name.startswith(".")]
    return entry


@pytest.mark.parametrize("planted", ["pickle", "empty", "no bars", "bad index"])
def test_a_planted_or_damaged_song_entry_is_never_run_and_is_rewritten(tmp_path, planted):
    midi = small_midi(tmp_path / "song.mid")
    cache = tmp_path / "cache"
    first = load_songs([midi], cache_dir=cache)
    entry = only_entry(cache / "songs")
    good = entry.read_bytes()
    victim = tmp_path / "created-by-unpickling"
    stored = json.loads(good)
    if planted == "pickle":
        entry.write_bytes(pickle.dumps(CreatesAFile(victim)))
        entry.with_suffix(".pickle").write_bytes(pickle.dumps(CreatesAFile(victim)))
    elif planted == "empty":
        entry.write_text(json.dumps({"format": SONGS_FORMAT, "songs": [], "notes": [],
                                     "chords": []}))
    elif planted == "no bars":
        stored["songs"][0]["measures"] = []
        entry.write_text(json.dumps(stored))
    else:
        stored["songs"][0]["measures"][0][1] = [-1]
        entry.write_text(json.dumps(stored))
    assert load_songs([midi], cache_dir=cache) == first
    assert not victim.exists()
    assert entry.read_bytes() == good      # rewritten


def test_a_structurally_valid_but_empty_wjazzd_entry_is_read_again(tmp_path):
    root = tmp_path / "wjazzd"
    write_solo(root, "A_One", [note_row(1, 1, 60), note_row(1, 3, 64)], [beat_row(1, 1, "F7")])
    cache = tmp_path / "cache"
    first = wjazzd_folder_songs(root, cache_dir=cache)
    entry = only_entry(cache / "wjazzd")
    good = entry.read_bytes()
    entry.write_text(json.dumps({"format": SONGS_FORMAT, "songs": [], "skipped": [],
                                 "notes": [], "chords": []}))
    assert wjazzd_folder_songs(root, cache_dir=cache) == first
    assert entry.read_bytes() == good
    entry.write_bytes(pickle.dumps({"songs": first, "skipped": []}))
    assert wjazzd_folder_songs(root, cache_dir=cache) == first
    assert entry.read_bytes() == good


def test_an_unwritable_cache_is_reported_once(tmp_path):
    sources = [str(small_midi(tmp_path / f"song{number}.mid", 60 + number))
               for number in range(3)]
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("")
    result = run_cli("corpus", "--data", *sources, cwd=tmp_path,
                     env={"JAZZ_LSTM_CACHE": str(not_a_folder)})
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("cannot write the cache") == 1, result.stderr
    assert os.path.getsize(not_a_folder) == 0
