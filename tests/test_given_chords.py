"""Melody-only files with chords given as text (--chords, NAME.chords).

Expected chords are written down by hand from the progressions put in.
"""
import json
from pathlib import Path

import pytest

from music.read.scores import load_song, load_songs
from music.song import MusicError
from tests.test_cli import assert_clean_error, run_cli
from tests.test_reading import CMAJ7, whole_note_chords, write_midi

# Pitch classes of the roots: C=0 D=2 F=5 G=7 A=9 Bb=10.
BARS = 6


def melody(bars=BARS, bar_length=4):
    """A quarter note on every beat of every bar."""
    return [(beat, 1, 60 + beat % 12) for beat in range(bars * bar_length)]


@pytest.fixture
def solo(tmp_path):
    return write_midi(tmp_path / "solo.mid", [("Lead", 0, 65, melody())])


def chords_by_bar(song):
    return [[(chord.symbol, chord.root, chord.start, chord.duration) for chord in measure.chords]
            for measure in song.measures]


def test_the_progression_repeats_over_the_bars(solo, tmp_path):
    song = load_song(solo, chords="Bbmaj7 | Gm7 | Cm7 | F7", cache_dir=tmp_path / "cache")
    assert chords_by_bar(song) == [
        [("Bbmaj7", 10, 0, 4)], [("Gm7", 7, 0, 4)], [("Cm7", 0, 0, 4)], [("F7", 5, 0, 4)],
        [("Bbmaj7", 10, 0, 4)], [("Gm7", 7, 0, 4)]]
    assert song.chord_source == "the given chords"
    assert len(song.melody_notes) == BARS * 4


def test_pickup_bars_take_the_last_bars_of_the_progression(solo, tmp_path):
    song = load_song(solo, chords="Bbmaj7 | Gm7 | Cm7 | F7", chords_offset=1,
                     cache_dir=tmp_path / "cache")
    assert [bar[0][0] for bar in chords_by_bar(song)] == [
        "F7", "Bbmaj7", "Gm7", "Cm7", "F7", "Bbmaj7"]
    assert song.chord_source == "the given chords after 1 pickup bar(s)"
    song = load_song(solo, chords="Bbmaj7 | Gm7 | Cm7 | F7", chords_offset=6,
                     cache_dir=tmp_path / "cache")
    assert [bar[0][0] for bar in chords_by_bar(song)] == [
        "Cm7", "F7", "Bbmaj7", "Gm7", "Cm7", "F7"]


def test_chords_share_their_bar_and_follow_the_metre(tmp_path):
    waltz = write_midi(tmp_path / "waltz.mid", [("Lead", 0, 65, melody(4, 3))],
                       time_signature=(3, 4))
    song = load_song(waltz, chords="Dm7 / G7 | % | C6", cache_dir=tmp_path / "cache")
    assert chords_by_bar(song) == [
        [("Dm7", 2, 0, 2), ("G7", 7, 2, 1)], [("Dm7", 2, 0, 2), ("G7", 7, 2, 1)],
        [("C6", 0, 0, 3)], [("Dm7", 2, 0, 2), ("G7", 7, 2, 1)]]


def test_named_progressions(solo, tmp_path):
    song = load_song(solo, chords="rhythm:Bb", cache_dir=tmp_path / "cache")
    assert [[symbol for symbol, *_ in bar] for bar in chords_by_bar(song)] == [
        ["Bbmaj7", "Gm7"], ["Cm7", "F7"], ["Dm7", "G7"], ["Cm7", "F7"], ["Fm7", "Bb7"],
        ["Ebmaj7", "Edim7"]]


def test_given_chords_replace_the_files_own(tmp_path):
    both = write_midi(tmp_path / "both.mid", [
        ("Lead", 0, 65, melody(2)), ("Pad", 1, 89, whole_note_chords([CMAJ7, CMAJ7]))])
    assert chords_by_bar(load_song(both, cache_dir=tmp_path / "cache"))[0][0][0] == "Cmaj7"
    song = load_song(both, chords="A7", cache_dir=tmp_path / "cache")
    assert chords_by_bar(song) == [[("A7", 9, 0, 4)], [("A7", 9, 0, 4)]]


def test_cached_songs_keep_their_own_chords(solo, tmp_path):
    cache = tmp_path / "cache"
    first = load_song(solo, chords="C7", cache_dir=cache)
    second = load_song(solo, chords="F7", cache_dir=cache)
    again = load_song(solo, chords="C7", cache_dir=cache)
    assert [bar[0][0] for bar in chords_by_bar(first)] == ["C7"] * BARS
    assert [bar[0][0] for bar in chords_by_bar(second)] == ["F7"] * BARS
    assert again == first


def test_a_chords_file_beside_each_piece(tmp_path):
    folder = tmp_path / "solos"
    folder.mkdir()
    write_midi(folder / "a.mid", [("Lead", 0, 65, melody(4))])
    write_midi(folder / "b.mid", [("Lead", 0, 65, melody(2))])
    (folder / "a.chords").write_text("# my turnaround\n| Cmaj7 | Am7 |\n\nDm7 | G7  # to the top\n")
    skipped = []
    songs = load_songs(folder, on_skip=lambda label, reason: skipped.append((label, reason)),
                       cache_dir=tmp_path / "cache")
    assert [song.source for song in songs] == [str(folder / "a.mid")]
    assert [bar[0][0] for bar in chords_by_bar(songs[0])] == ["Cmaj7", "Am7", "Dm7", "G7"]
    assert songs[0].chord_source == str(folder / "a.chords")
    assert skipped[0][0] == str(folder / "b.mid") and "--chords" in skipped[0][1]

    # The piece's own file wins over the text given for every file.
    songs = load_songs(folder, chords="Bb7", cache_dir=tmp_path / "cache")
    assert [[bar[0][0] for bar in chords_by_bar(song)] for song in songs] == [
        ["Cmaj7", "Am7", "Dm7", "G7"], ["Bb7", "Bb7"]]


def test_unreadable_chords_name_the_bar_and_symbol(solo, tmp_path):
    with pytest.raises(MusicError) as raised:
        load_song(solo, chords="Bbmaj7 | H7", cache_dir=tmp_path / "cache")
    assert "bar 2" in str(raised.value) and "'H7'" in str(raised.value)
    (tmp_path / "solo.chords").write_text("C | Dm7 | G7xx\n")
    with pytest.raises(MusicError) as raised:
        load_song(solo, cache_dir=tmp_path / "cache")
    message = str(raised.value)
    assert str(tmp_path / "solo.chords") in message and "bar 3" in message and "'G7xx'" in message


def test_a_chords_file_too_big_or_not_text_is_named(solo, tmp_path):
    (tmp_path / "solo.chords").write_bytes(b"C7 | " * 300_000)
    with pytest.raises(MusicError, match="solo.chords: over the limit of 1,048,576 bytes"):
        load_song(solo, cache_dir=tmp_path / "cache")
    (tmp_path / "solo.chords").write_bytes(b"C7 | \xff\xfe")
    with pytest.raises(MusicError, match="solo.chords: cannot be read as UTF-8 text"):
        load_song(solo, cache_dir=tmp_path / "cache")


def test_chords_and_chord_parts_exclude_each_other(solo, tmp_path):
    with pytest.raises(MusicError, match="give one"):
        load_song(solo, chords="C7", chord_parts=[0], cache_dir=tmp_path / "cache")


# ------------------------------------------------------------------ command line

def test_train_on_a_melody_with_chords_then_evaluate(solo, tmp_path):
    env = {"JAZZ_LSTM_CACHE": str(tmp_path / "cache")}
    result = run_cli("train", "--data", str(solo), "--chords", "Bbmaj7 | Gm7 | Cm7 | F7",
                     "--chords-offset", "1", "--epochs", "1", "--hidden", "8", "--run", "melody",
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "training on 1 piece(s)" in result.stdout
    result = run_cli("evaluate", "--quick", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model"] == {
        "path": str(Path("runs") / "melody" / "model.safetensors"),
        "chosen": "the only run in runs/, as no --run was given"}
    result = run_cli("evaluate", "--run", "melody", "--quick", cwd=tmp_path, env=env)
    assert result.stdout.startswith(f"model: {Path('runs') / 'melody' / 'model.safetensors'} "
                                    "(given by --run)\n")


def test_train_says_which_pieces_kept_their_own_chords_file(tmp_path):
    write_midi(tmp_path / "a.mid", [("Lead", 0, 65, melody(4))])
    write_midi(tmp_path / "b.mid", [("Lead", 0, 65, melody(4))])
    (tmp_path / "a.chords").write_text("Cmaj7 | Am7 | Dm7 | G7\n")
    result = run_cli("train", "--data", "a.mid", "b.mid", "--chords", "Bb7", "--epochs", "1",
                     "--hidden", "8", cwd=tmp_path, env={"JAZZ_LSTM_CACHE": str(tmp_path / "c")})
    assert result.returncode == 0, result.stderr
    assert ("note: 1 piece(s) take their chords from their own .chords file, not --chords: "
            "a.mid") in result.stderr


def test_corpus_shows_where_the_chords_came_from(solo, tmp_path):
    result = run_cli("corpus", "--data", str(solo), "--chords", "blues:F", cwd=tmp_path,
                     env={"JAZZ_LSTM_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    assert "chords from the given chords, 6 bars (6 with chords)" in result.stdout


@pytest.mark.parametrize("chords, fragments", [
    ("Bbmaj7 | Gm7 | H7", ["bar 3", "'H7'"]),
    ("blues in F", ["bar 1", "'blues'", "write blues:F"]),
])
def test_train_refuses_unreadable_chords_with_one_line(solo, tmp_path, chords, fragments):
    assert_clean_error(run_cli("train", "--data", str(solo), "--chords", chords, "--run", "x",
                               cwd=tmp_path), *fragments)
    assert not (tmp_path / "runs" / "x").exists()


def test_melody_only_without_chords_says_how_to_give_them(solo, tmp_path):
    assert_clean_error(run_cli("train", "--data", str(solo), cwd=tmp_path),
                       "no chords found", "--chords", ".chords")
