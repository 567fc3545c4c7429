"""jazz_lstm.corpus.read_songs caches a WJazzD folder's songs by content."""
import shutil

import pytest

import music.read.wjazzd_csv
from jazz_lstm.corpus import read_songs, wjazzd_folder_songs
from music.song import MusicError
from tests.test_wjazzd_csv import beat_row, note_row, write_solo

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)


@pytest.fixture
def parses(monkeypatch):
    """The folders music.read.wjazzd_csv actually parsed, in order."""
    seen = []
    parse = music.read.wjazzd_csv.load_wjazzd_folder

    def counting(folder, on_skip=None):
        seen.append(folder)
        return parse(folder, on_skip=on_skip)

    monkeypatch.setattr(music.read.wjazzd_csv, "load_wjazzd_folder", counting)
    return seen


@pytest.fixture
def database(tmp_path):
    root = tmp_path / "wjazzd"
    write_solo(root, "A_One", [note_row(1, 1, 60), note_row(1, 3, 64)], [beat_row(1, 1, "F7")])
    write_solo(root, "B_Two", [note_row(1, 2, 67)])
    return root


def test_a_second_read_comes_from_the_cache(database, tmp_path, monkeypatch, parses):
    monkeypatch.setenv("JAZZ_LSTM_CACHE", str(tmp_path / "cache"))
    first = read_songs([str(database)])
    second = read_songs([str(database)])
    assert parses == [database]
    assert second == first
    assert [song.title for song in second] == ["A_One", "B_Two"]
    assert second[0].source == str(database / "melody" / "A_One_FINAL.csv")
    assert [entry.suffix for entry in (tmp_path / "cache" / "wjazzd").iterdir()] == [".json"]


def test_a_moved_folder_is_a_hit_with_its_new_paths(database, tmp_path, parses):
    cache = tmp_path / "cache"
    wjazzd_folder_songs(database, cache_dir=cache)
    moved = shutil.copytree(database, tmp_path / "elsewhere")
    songs = wjazzd_folder_songs(moved, cache_dir=cache)
    assert parses == [database]
    assert [song.source for song in songs] == [str(moved / "melody" / "A_One_FINAL.csv"),
                                               str(moved / "melody" / "B_Two_FINAL.csv")]


def test_the_melody_folder_and_the_root_share_one_entry(database, tmp_path, parses):
    cache = tmp_path / "cache"
    from_root = wjazzd_folder_songs(database, cache_dir=cache)
    from_melody = wjazzd_folder_songs(database / "melody", cache_dir=cache)
    assert from_melody == from_root and parses == [database]


@pytest.mark.parametrize("change", ["melody", "beats", "new solo"])
def test_a_changed_csv_is_read_again(database, tmp_path, parses, change):
    cache = tmp_path / "cache"
    wjazzd_folder_songs(database, cache_dir=cache)
    if change == "melody":
        write_solo(database, "B_Two", [note_row(1, 2, 69)])
    elif change == "beats":
        write_solo(database, "A_One", [note_row(1, 1, 60), note_row(1, 3, 64)],
                   [beat_row(1, 1, "Bb7")])
    else:
        write_solo(database, "C_Three", [note_row(1, 1, 72)])
    songs = wjazzd_folder_songs(database, cache_dir=cache)
    assert parses == [database, database]
    expected = {"melody": (69, "F7", 2), "beats": (67, "Bb7", 2), "new solo": (67, "F7", 3)}
    pitch, chord, count = expected[change]
    assert songs[1].melody_notes[0].pitch == pitch
    assert songs[0].measures[0].chords[0].symbol == chord
    assert len(songs) == count


def test_unreadable_solos_are_reported_again_from_the_cache(database, tmp_path, parses):
    cache = tmp_path / "cache"
    bad = write_solo(database, "C_Bad", [note_row(1, 9, 60)])
    reason = f"{bad}: row 2: beat 9 is above the period 4"
    skipped = []
    for _ in range(2):
        songs = wjazzd_folder_songs(database, cache_dir=cache,
                                    on_skip=lambda label, why: skipped.append((label, why)))
        assert [song.title for song in songs] == ["A_One", "B_Two"]
    assert skipped == [(str(bad), reason)] * 2
    with pytest.raises(MusicError) as raised:
        wjazzd_folder_songs(database, cache_dir=cache)
    assert str(raised.value) == reason
    assert parses == [database]


def test_a_damaged_entry_is_read_again_and_rewritten(database, tmp_path, parses):
    cache = tmp_path / "cache"
    first = wjazzd_folder_songs(database, cache_dir=cache)
    (entry,) = (cache / "wjazzd").iterdir()
    entry.write_bytes(b"not a pickle")
    assert wjazzd_folder_songs(database, cache_dir=cache) == first
    assert wjazzd_folder_songs(database, cache_dir=cache) == first
    assert parses == [database, database]
