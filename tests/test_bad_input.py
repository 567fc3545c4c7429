"""Every bad source raises MusicError with one line naming it and the problem."""
import os

import mido
import pytest

from music.read.scores import load_song, load_songs
from music.song import MusicError
from tests.test_reading import CMAJ7, whole_note_chords, write_midi

MELODY = [(0, 1, 72), (1, 1, 74), (2, 2, 76)]


def error_of(source, **options) -> str:
    with pytest.raises(MusicError) as caught:
        load_song(source, **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_path(tmp_path):
    message = error_of(tmp_path / "nowhere.mid")
    assert "nowhere.mid" in message and "no such file" in message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mid"
    path.write_bytes(b"")
    message = error_of(path)
    assert "empty.mid" in message and "empty" in message


def test_random_bytes_named_mid(tmp_path):
    path = tmp_path / "noise.mid"
    path.write_bytes(os.urandom(2048))
    message = error_of(path)
    assert "noise.mid" in message and "not a MIDI file" in message


def test_text_file_named_mid(tmp_path):
    path = tmp_path / "letter.mid"
    path.write_text("Dear reader,\nthis is not a MIDI file.\n")
    message = error_of(path)
    assert "letter.mid" in message and "not a MIDI file" in message


def test_random_bytes_named_musicxml(tmp_path):
    path = tmp_path / "noise.musicxml"
    path.write_bytes(bytes(range(256)) * 8)
    message = error_of(path)
    assert "noise.musicxml" in message and "not a readable music file" in message


def test_truncated_midi(tmp_path):
    whole = write_midi(tmp_path / "whole.mid", [
        ("Lead", 0, 65, MELODY), ("Pad", 1, 89, whole_note_chords([CMAJ7]))])
    data = whole.read_bytes()
    path = tmp_path / "cut.mid"
    path.write_bytes(data[:len(data) - 20])
    message = error_of(path)
    assert "cut.mid" in message and "truncated" in message


def test_only_drums(tmp_path):
    drums = [(beat / 2, 0.5, 42) for beat in range(8)] + [(beat, 1, 36) for beat in range(4)]
    path = write_midi(tmp_path / "drums.mid", [("Kit", 9, 0, drums)])
    message = error_of(path)
    assert "drums.mid" in message and "drum" in message


def test_no_notes_at_all(tmp_path):
    path = write_midi(tmp_path / "silent.mid", [("Lead", 0, 65, []), ("Pad", 1, 89, [])])
    message = error_of(path)
    assert "silent.mid" in message and "no notes" in message


def test_melody_part_without_pitched_notes(tmp_path):
    path = write_midi(tmp_path / "drum_lead.mid", [
        ("Pad", 1, 89, whole_note_chords([CMAJ7])), ("Kit", 9, 0, [(0, 1, 36), (1, 1, 38)])])
    message = error_of(path, melody_part="Kit")
    assert "drum_lead.mid" in message and "no pitched notes" in message


def test_no_melody_notes_in_bar_range(tmp_path):
    path = write_midi(tmp_path / "short_tune.mid", [
        ("Lead", 0, 65, MELODY), ("Pad", 1, 89, whole_note_chords([CMAJ7, CMAJ7]))])
    message = error_of(path, bars=(2, 2))
    assert "short_tune.mid" in message and "no melody notes" in message


def test_no_chords_found(tmp_path):
    path = write_midi(tmp_path / "solo_only.mid", [("Lead", 0, 65, MELODY)])
    message = error_of(path)
    assert "solo_only.mid" in message and "no chords" in message


def test_unknown_extension(tmp_path):
    path = tmp_path / "song.txt"
    path.write_text("C D E F G")
    message = error_of(path)
    assert "song.txt" in message and "unknown file type" in message


def test_folder_without_music(tmp_path):
    folder = tmp_path / "nothing_here"
    folder.mkdir()
    (folder / "readme.txt").write_text("no music")
    with pytest.raises(MusicError) as caught:
        load_songs([folder])
    message = str(caught.value)
    assert "\n" not in message
    assert "nothing_here" in message and "no music files" in message


def test_unknown_corpus_name():
    message = error_of("music21:noSuchComposer/noSuchPiece.xml")
    assert "music21:noSuchComposer/noSuchPiece.xml" in message and "corpus" in message


@pytest.mark.parametrize("melody_part, complaint", [
    (7, "out of range"), ("Tuba", "not a part name"), (1.5, "must be a part index or name")])
def test_bad_melody_part(tmp_path, melody_part, complaint):
    path = write_midi(tmp_path / "duet.mid", [
        ("Lead", 0, 65, MELODY), ("Pad", 1, 89, whole_note_chords([CMAJ7]))])
    message = error_of(path, melody_part=melody_part)
    assert "duet.mid" in message and complaint in message


def test_midi_with_garbage_events(tmp_path):
    # A well-formed chunk structure around bytes that are not MIDI events.
    header = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") \
        + (1).to_bytes(2, "big") + (480).to_bytes(2, "big")
    body = bytes([0x00, 0xF7, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]) + os.urandom(64)
    path = tmp_path / "garbled.mid"
    path.write_bytes(header + b"MTrk" + len(body).to_bytes(4, "big") + body)
    message = error_of(path)
    assert "garbled.mid" in message


def test_mido_can_still_read_the_helper_files(tmp_path):
    # Guards the helper the other tests rely on: its files are valid MIDI.
    path = write_midi(tmp_path / "ok.mid", [("Lead", 0, 65, MELODY)])
    assert len(mido.MidiFile(str(path)).tracks) == 2
