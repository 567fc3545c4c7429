"""jazz_lstm.note_corpus: MIDI files read as notes tokens, the cached folder corpus, tokens
written and read back."""
import json
import shutil

import mido
import pytest

from jazz_lstm import note_corpus as notes
from music.write.midi import write_midi
from music.tokens.note_tokens import (MIDI_OPTIONS, tokens_to_song)
from jazz_lstm.note_corpus import encode_score_tokens, load_note_corpus
from music.song import MusicError


TICKS = 480


def write_test_midi(path, tracks):
    """A type-1 MIDI file; tracks: lists of (start, duration, pitch) in quarters,
    or ("drums", [...]) for channel 10."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS)
    conductor = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4)])
    midi.tracks.append(conductor)
    for track in tracks:
        channel, track_notes = (9, track[1]) if track[0] == "drums" else (0, track)
        events = []
        for start, duration, pitch in track_notes:
            events.append((round(start * TICKS), 1, pitch))
            events.append((round((start + duration) * TICKS), 0, pitch))
        messages, now = mido.MidiTrack(), 0
        for tick, on, pitch in sorted(events):
            kind = "note_on" if on else "note_off"
            messages.append(mido.Message(kind, channel=channel, note=pitch,
                                         velocity=80 if on else 0, time=tick - now))
            now = tick
        midi.tracks.append(messages)
    midi.save(str(path))
    return path


MELODY = [(0, 1, 60), (1, 0.5, 62), (1.5, 0.5, 64), (3, 2, 67)]     # a rest, a tie at the bar


CHORDS = [(0, 1, 48), (0, 1, 52), (0, 1, 55)]                         # C major under the first note


MELODY_TOKENS = ["0.4.7:1", "D4:1/2", "E4:1/2", "R:1", "G4:2"]


def test_a_midi_file_reads_as_tokens_with_ties_joined_and_drums_ignored(tmp_path):
    path = write_test_midi(tmp_path / "piece.mid", [
        MELODY, CHORDS, ("drums", [(0, 0.25, 36), (2, 0.25, 38)])])
    assert encode_score_tokens(path) == MELODY_TOKENS


def test_written_tokens_read_back_the_same(tmp_path):
    tokens = ["0.4.7:1", "D4:1/2", "E4:1/4", "F#4:1/4", "R:1", "2.5.7.11:1",
              "G4:1/3", "A4:1/3", "B4:1/3", "C5:2"]
    path = write_midi(tokens_to_song(tokens), tmp_path / "out.mid", **MIDI_OPTIONS)
    assert encode_score_tokens(path) == tokens


def test_one_file_is_wanted(tmp_path):
    write_test_midi(tmp_path / "a.mid", [MELODY])
    write_test_midi(tmp_path / "b.mid", [MELODY])
    with pytest.raises(MusicError, match="2 music files"):
        encode_score_tokens(tmp_path)


@pytest.fixture
def folder(tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    write_test_midi(songs / "a.mid", [MELODY, CHORDS])
    write_test_midi(songs / "c.mid", [[(0, 1, 72), (1, 1, 74)]])
    (songs / "b_broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    write_test_midi(songs / "d_drums.mid", [("drums", [(0, 1, 36)])])
    return songs


def test_a_folder_loads_its_good_files_and_names_the_bad_ones(folder, tmp_path, capsys):
    corpus = load_note_corpus(folder, cache_dir=tmp_path / "cache")
    assert corpus.files == (str(folder / "a.mid"), str(folder / "c.mid"))
    assert corpus.token_lists == (tuple(MELODY_TOKENS), ("C5:1", "D5:1"))
    assert corpus.tokens == MELODY_TOKENS + ["C5:1", "D5:1"]
    assert [label for label, _ in corpus.skipped] == \
        [str(folder / "b_broken.mid"), str(folder / "d_drums.mid")]
    assert "truncated" in corpus.skipped[0][1] and "no pitched notes" in corpus.skipped[1][1]
    err = capsys.readouterr().err
    assert f"warning: skipping {folder / 'b_broken.mid'}: " in err
    assert f"warning: skipping {folder / 'd_drums.mid'}: " in err
    assert f"[1/4] parsing {folder / 'a.mid'}" in err      # plain lines: stderr is no terminal
    assert corpus.parsed == 2


def test_the_cache_is_keyed_by_content_not_by_name(folder, tmp_path, capsys):
    cache = tmp_path / "cache"
    first = load_note_corpus(folder, cache_dir=cache, progress=False)
    entries = sorted((cache / f"notes-v{notes.ENCODING_VERSION}").glob("*.json"))
    assert len(entries) == 2
    shutil.copy(folder / "a.mid", folder / "e_renamed_copy.mid")
    again = load_note_corpus(folder, cache_dir=cache, progress=False)
    assert again.parsed == 0 and again.token_lists == first.token_lists + first.token_lists[:1]

    write_test_midi(folder / "c.mid", [[(0, 2, 72)]])
    changed = load_note_corpus(folder, cache_dir=cache, progress=False)
    assert changed.parsed == 1 and changed.token_lists[1] == ("C5:2",)
    assert "parsing" not in capsys.readouterr().err


def test_a_damaged_cache_entry_is_parsed_again(tmp_path, monkeypatch):
    path = write_test_midi(tmp_path / "a.mid", [MELODY])
    monkeypatch.setenv(notes.CACHE_ENV, str(tmp_path / "env-cache"))
    load_note_corpus(path, progress=False)
    (entry,) = (tmp_path / "env-cache" / f"notes-v{notes.ENCODING_VERSION}").glob("*.json")
    entry.write_text("{not json")
    corpus = load_note_corpus(path, progress=False)
    assert corpus.parsed == 1
    assert json.loads(entry.read_text())["tokens"] == list(corpus.token_lists[0])


def test_every_file_failing_is_an_error(tmp_path):
    (tmp_path / "x.mid").write_bytes(b"not midi")
    (tmp_path / "y.mid").write_bytes(b"")
    with pytest.raises(MusicError, match="none of the 2 music file"):
        load_note_corpus(tmp_path, cache_dir=tmp_path / "cache", progress=False)
    with pytest.raises(MusicError, match="no such file"):
        load_note_corpus(tmp_path / "missing", cache_dir=tmp_path / "cache")


def test_the_default_sources_are_in_music21s_corpus():
    import music21
    for source in notes.DEFAULT_NOTE_SOURCES:
        assert source.startswith("music21:")
        assert music21.corpus.getWork(source.removeprefix("music21:"))


def test_a_terminal_gets_a_progress_bar_and_the_warnings(folder, tmp_path, capsys, monkeypatch):
    import sys
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    corpus = load_note_corpus(folder, cache_dir=tmp_path / "cache")
    err = capsys.readouterr().err
    assert len(corpus.files) == 2 and "4/4" in err and "[1/4] parsing" not in err
    assert f"warning: skipping {folder / 'b_broken.mid'}: " in err


def test_a_cached_corpus_name_needs_no_music21(tmp_path):
    from tests.test_reading import printed_by_two_fresh_pythons

    code = ("import sys; from jazz_lstm.note_corpus import load_note_corpus; "
            "corpus = load_note_corpus('music21:bach/bwv66.6', "
            f"cache_dir={str(tmp_path)!r}, progress=False); "
            "print(corpus.parsed, 'music21' in sys.modules)")
    runs = printed_by_two_fresh_pythons(code)
    assert runs == [["1", "True"], ["0", "False"]]
