"""jazz_lstm.corpus: data named as sources, songs split by piece into training and
validation, the training stream and its features, and what a run keeps for sampling."""
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from jazz_lstm.corpus import (Corpus, corpus_summary, data_sources, load_corpus, melody_register,
                              playable_tempo, sampling_chords, skipped_note, split_pieces,
                              stream_features)
from jazz_lstm.grammars import Piece
from jazz_lstm.record import CorpusRecord, MusicRecord
from music.chords import make_chord
from music.song import Measure, Note, Song
from tests.test_wjazzd_csv import beat_row, note_row, write_solo


def test_data_is_a_list_of_sources():
    assert data_sources(None) is None
    assert data_sources("solo.mid") == ["solo.mid"]
    assert data_sources(Path("a")) == [Path("a")]
    assert data_sources(("a.mid", Path("b"))) == ["a.mid", Path("b")]
    with pytest.raises(ValueError, match="data is an empty list"):
        data_sources([])
    for wrong in (3, [b"a.mid"], {"a.mid"}, ["a.mid", None]):
        with pytest.raises(ValueError, match="data must be a file, folder or music21: name"):
            data_sources(wrong)


def piece(name, rows):
    features = None if rows is None else np.array(rows, dtype=np.float32)[:, None]
    return Piece(name, name, ["t"] * (0 if rows is None else len(rows) - 1), features, None)


def test_the_streams_features_lay_the_pieces_end_to_end():
    # A piece's last row (the place after it) is the next piece's first place.
    features = stream_features([piece("a", [0, 1, 2]), piece("b", [10, 11, 12, 13])])
    assert features[:, 0].tolist() == [0, 1, 10, 11, 12, 13]
    assert stream_features([piece("a", None)]) is None and stream_features([]) is None


def test_the_split_holds_out_a_seeded_share_of_pieces_in_corpus_order():
    pieces = [f"p{k}" for k in range(10)]
    training, validation = split_pieces(pieces, 0.25, seed=3)   # floor(2.5) = 2 held out
    assert len(validation) == 2 and len(training) == 8
    assert sorted(training + validation) == sorted(pieces)
    assert training == sorted(training, key=pieces.index)
    assert validation == sorted(validation, key=pieces.index)
    assert split_pieces(pieces, 0.25, seed=3) == (training, validation)
    assert {tuple(split_pieces(pieces, 0.25, seed)[1]) for seed in range(10)} != {tuple(validation)}
    assert split_pieces(pieces, 0.09, seed=3) == (pieces, [])     # rounds to none
    assert split_pieces(pieces, 1.0, seed=3) == (pieces, [])      # never all of them
    assert split_pieces(pieces[:1], 0.5, seed=3) == (pieces[:1], [])


def melody_song(pitches):
    return Song([Measure(len(pitches), [Note(k, 1, pitch) for k, pitch in enumerate(pitches)])])


def test_the_register_is_the_2nd_to_98th_percentile_at_least_an_octave_wide():
    # pitches 20..120 (101 of them): the 2nd and 98th percentiles are 22 and 118
    songs = [melody_song(range(20, 70)), melody_song(range(70, 121))]
    assert melody_register(songs) == [22, 118]
    assert melody_register([melody_song([60] * 8)]) == [60, 71]
    assert melody_register([melody_song([60, 62, 64] * 5)]) == [60, 71]


def test_a_tempo_is_brought_into_the_playable_range():
    assert playable_tempo(1) == 20.0 and playable_tempo(500.5) == 400.0
    assert playable_tempo(132) == 132.0 and type(playable_tempo(132)) is float


def test_sampling_chords_fit_each_bar_to_the_songs_metre():
    long_bar = [make_chord("Dm7", 0, 2), make_chord("G7", 2, 3), make_chord("C7", F(9, 2), F(1, 2))]
    song = Song([Measure(4, chords=[make_chord("Cmaj7")]), Measure(5, chords=long_bar)])
    bars = sampling_chords(song)
    assert [[(chord.symbol, chord.start, chord.duration) for chord in bar] for bar in bars] == [
        [("Cmaj7", 0, 4)], [("Dm7", 0, 2), ("G7", 2, 2)]]


def test_the_note_on_skipped_files():
    assert skipped_note(["a.mid", "b.xml"]) == \
        "skipped 2 file(s) that could not be read: a.mid, b.xml"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Four two-bar solos of quarter notes over C7 | F7, each a step higher."""
    root = tmp_path_factory.mktemp("solos")
    for index in range(4):
        notes = [note_row(bar, beat, 60 + index + beat, chord=chord)
                 for bar, chord in ((1, "C7"), (2, "F7")) for beat in range(1, 5)]
        beats = [beat_row(bar, beat, chord) for bar, chord in ((1, "C7"), (2, "F7"))
                 for beat in range(1, 5)]
        write_solo(root, f"Player_Tune{index}", notes, beats)
    return root


def test_a_corpus_holds_out_pieces_and_keeps_the_first_training_pieces_music(folder):
    corpus = load_corpus([folder], validation_share=0.25, seed=1)
    assert len(corpus.pieces) == 3 and len(corpus.validation) == 1
    assert corpus.description == "3 piece(s) (+1 held out for validation)"
    assert corpus.record.encoding == "grammar"
    assert corpus.record.sources == tuple(piece.source for piece in corpus.pieces)
    assert corpus.record.validation_sources == (corpus.validation[0].source,)
    assert corpus.record.options.data == (str(folder),)
    assert corpus.tokens == [token for piece in corpus.pieces for token in piece.tokens]
    assert len(corpus.features) == len(corpus.tokens) + 1
    first = corpus.pieces[0].song
    assert corpus.music.tempo == 120.0 and corpus.music.time_signature == (4, 4)
    assert corpus.music.chords_title == (first.title or first.source)
    assert [[chord[4] for chord in bar] for bar in corpus.music.chords] == [["C7"], ["F7"]]
    # the melodies span 61..67, less than an octave: the register is an octave from its low
    low, high = corpus.music.pitch_range
    assert 61 <= low <= 67 and high == low + 11
    assert load_corpus([folder], validation_share=0.25, seed=1).record == corpus.record


def test_an_unreadable_solo_is_reported_and_left_out(folder, tmp_path):
    import shutil

    copy = tmp_path / "solos"
    shutil.copytree(folder, copy)
    (copy / "melody" / "Broken_Tune_FINAL.csv").write_text("onset,duration\nnot,numbers\n")
    heard = []
    corpus = load_corpus([copy], on_skip=lambda label, reason: heard.append(label))
    assert len(heard) == 1 and "Broken_Tune" in heard[0]
    assert corpus.record.skipped == tuple(heard)
    assert len(corpus.pieces) == 4 and not any("Broken" in source for source in corpus.record.sources)


@pytest.mark.parametrize("options, message", [
    ({"encoding": "words"}, "unknown encoding 'words'; choose one of grammar, notes"),
    ({"encoding": "notes", "chords": "C7"}, "--chords chooses what melodies to read"),
    ({"encoding": "notes", "where": ["style=BEBOP"]}, "--where chooses what melodies to read"),
])
def test_options_that_do_not_fit_the_encoding_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        load_corpus(["any.mid"], **options)


def test_the_summary_counts_bars_notes_and_tokens():
    chords = [make_chord("C7")]
    songs = [Song([Measure(4, [Note(0, 2, 60), Note(2, 2, 62)], chords)] * 2, tempo=100,
                  title="One", source="one.mid", melody_part="Piano", chord_source="chord symbols"),
             Song([Measure(3, [Note(0, 3, 64)], []), Measure(3, [Note(0, 3, 64)], [make_chord("C7", 0, 3)])],
                  tempo=90, time_signature=(3, 4), title="Two", source="two.mid",
                  melody_part="Guitar", chord_source="text")]
    pieces = [Piece(song.source, song.title, tokens, None, song)
              for song, tokens in zip(songs, (["a", "b", "a"], ["a", "c"]))]
    corpus = Corpus(pieces[:1], CorpusRecord("grammar", skipped=("bad.mid",)), MusicRecord(100.0),
                    "1 piece(s)", pieces[1:])
    summary, lines = corpus_summary(corpus)
    assert lines == [
        'one.mid: "One", melody = Piano, chords from chord symbols, 2 bars (2 with chords), '
        "4/4 at 100 bpm",
        'two.mid: "Two", melody = Guitar, chords from text, 2 bars (1 with chords), 3/4 at 90 bpm',
        "4 bars, 6 notes",
        "skipped 1: bad.mid"]
    assert (summary["bars"], summary["notes"], summary["tokens"], summary["vocab_size"]) == (4, 6, 5, 3)
    assert summary["most_common"] == [("a", 3), ("b", 1), ("c", 1)]
    assert summary["skipped"] == ["bad.mid"] and "where" not in summary
