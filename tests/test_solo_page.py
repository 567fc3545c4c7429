"""jazz_lstm.solo_page: a self-contained page (or notebook fragment) that draws the solo's
piano roll, chords, settings and player as it should."""
import base64

import pytest

from jazz_lstm.solo_page import (BARS_PER_ROW, LABEL_WIDTH, QUARTER_WIDTH, ROLE_COLOURS,
                                 SEMITONE_HEIGHT, chord_label, display_symbol, solo_html)
from music.chords import make_chord
from music.song import Chord, Measure, Note, Song
from music.tokens.classic_grammar import role_of
from tests.page_helpers import Elements, _chromium, _distinct_colours, _song, needs_chromium


SETTINGS = {"seed": 42, "temperature": 0.9, "chords": "blues:F", "top_k": None}


def test_one_note_element_per_melody_note_coloured_by_its_role():
    song = _song()
    page = Elements(solo_html(song, settings=SETTINGS))
    notes = page.with_class("note")
    assert [note["data-role"] for note in notes] == ["C", "S", "A", "X", "C", "S"]
    expected = [role_of(note.pitch, measure.chord_at(note.start))
                for measure in song.measures for note in measure.notes if not note.is_rest]
    assert [note["data-role"] for note in notes] == expected
    for note in notes:
        assert f"role-{note['data-role']}" in note["class"].split()
        assert note["fill"] == ROLE_COLOURS[note["data-role"]]


def test_notes_are_placed_by_time_and_pitch():
    notes = Elements(solo_html(_song(), settings=SETTINGS)).with_class("note")
    by_pitch = {int(note["data-pitch"]): note for note in notes}
    # Bar 2's A4 starts one quarter into the second bar, 4 + 1 quarters from the left edge.
    assert float(by_pitch[69]["x"]) == pytest.approx(LABEL_WIDTH + 5 * QUARTER_WIDTH + 0.5)
    assert float(by_pitch[69]["width"]) == pytest.approx(3 * QUARTER_WIDTH - 1.5)
    # Ten semitones higher is ten rows further up.
    assert float(by_pitch[60]["y"]) - float(by_pitch[70]["y"]) == 10 * SEMITONE_HEIGHT


def test_no_network_address_anywhere():
    page = solo_html(_song(), wav_bytes=b"RIFF....WAVEfmt ", settings=SETTINGS)
    assert "http://" not in page and "https://" not in page
    assert "//" not in "".join(attrs.get("src", "") + attrs.get("href", "")
                               for _, attrs in Elements(page).tags)


def test_chord_lane_names_every_chord():
    page = Elements(solo_html(_song(3), settings=SETTINGS))
    assert [attrs["data-symbol"] for attrs in page.with_class("chord")] == ["C", "G7", "G7"]


def test_a_row_per_four_bars():
    assert BARS_PER_ROW == 4
    page = Elements(solo_html(_song(9), settings=SETTINGS))
    rows = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert [(row["data-start"], row["data-end"]) for row in rows] == [
        ("0", "16"), ("16", "32"), ("32", "36")]


def test_embedded_audio_decodes_to_the_wav_bytes():
    wav = bytes(range(256)) * 3
    page = Elements(solo_html(_song(), wav_bytes=wav, settings=SETTINGS))
    [audio] = [attrs for tag, attrs in page.tags if tag == "audio"]
    prefix = "data:audio/wav;base64,"
    assert audio["src"].startswith(prefix)
    assert base64.b64decode(audio["src"][len(prefix):]) == wav


def test_linked_audio_and_its_mistakes():
    page = Elements(solo_html(_song(), wav_path="solo 1.wav", settings=SETTINGS))
    assert [attrs["src"] for tag, attrs in page.tags if tag == "audio"] == ["solo 1.wav"]
    with pytest.raises(ValueError, match="not both"):
        solo_html(_song(), wav_bytes=b"x", wav_path="a.wav", settings=SETTINGS)
    with pytest.raises(ValueError, match="not a URL"):
        solo_html(_song(), wav_path="https://example.org/a.wav", settings=SETTINGS)


def test_settings_and_legend_counts_are_shown():
    page = Elements(solo_html(_song(), settings=SETTINGS))
    cells = page.cells
    for name, shown in [("seed", "42"), ("temperature", "0.9"), ("chords", "blues:F"),
                        ("top_k", "default")]:
        assert cells[cells.index(name) + 1] == shown
    text = solo_html(_song(), settings=SETTINGS)
    assert "seed 42" in text
    # 2 of 6 notes are chord tones, 2 scale tones, 1 approach, 1 other.
    assert "chord tone<span class=\"count\">2 (33%)" in text
    assert "other<span class=\"count\">1 (17%)" in text


def test_text_is_escaped():
    page = solo_html(_song(title="<script>alert(1)</script>"),
                     settings={"note": "<b>bold</b>"})
    assert "<script>alert" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_same_solo_same_page():
    assert solo_html(_song(5), settings=SETTINGS) == solo_html(_song(5), settings=SETTINGS)


def test_a_solo_of_rests_still_draws():
    silent = Song(measures=[Measure(4, [Note(0, 4, None)], [make_chord("F7", 0, 4)])])
    page = Elements(solo_html(silent, settings={}))
    assert page.with_class("note") == [] and len(page.with_class("chord")) == 1


@pytest.mark.parametrize("symbol, root, shown", [
    ("Bb7b9", 10, "B♭7♭9"), ("F#m7b5", 6, "F♯m7♭5"),
    ("B-M9/F", 10, "B♭M9/F"),   # music21's flat: B- is the root 10
    ("D-7", 2, "D-7"),          # jazz minor: D is the root 2
    ("C/E-", 0, "C/E♭"), ("Gm7", None, "Gm7"),
])
def test_chord_symbols_are_typeset(symbol, root, shown):
    assert display_symbol(symbol, root) == shown


def test_a_chord_without_symbol_is_labelled_by_its_notes_from_the_root():
    assert chord_label(Chord(0, 4, 7, (2, 5, 7, 11))) == "(G B D F)"
    assert chord_label(Chord(0, 4, 10, (2, 5, 10))) == "(B♭ D F)"


@pytest.mark.slow
@needs_chromium
def test_chromium_renders_the_solo_page(tmp_path):
    page = tmp_path / "solo.html"
    page.write_text(solo_html(_song(8), settings=SETTINGS), encoding="utf-8")
    screenshot = tmp_path / "solo.png"
    _chromium(f"--screenshot={screenshot}", "--window-size=1200,800", page.as_uri(),
              profile=tmp_path / "profile")
    colours = _distinct_colours(screenshot)
    assert len(colours) > 100
    for hex_colour in ROLE_COLOURS.values():
        rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, f"no pixel of the {hex_colour} notes"


@pytest.mark.slow
@needs_chromium
def test_playhead_follows_the_audio_clock(tmp_path):
    # At 10 s and 132 bpm the solo is 22 quarters in: row 2 (quarters 16-32),
    # 6 quarters from its left edge.
    seek = ('<script>var audio = document.querySelector("audio");'
            'Object.defineProperty(audio, "currentTime", {value: 10});'
            'audio.dispatchEvent(new Event("seeked"));</script></body>')
    page = tmp_path / "solo.html"
    page.write_text(solo_html(_song(8), wav_path="solo.wav", settings=SETTINGS)
                    .replace("</body>", seek), encoding="utf-8")
    dom = _chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
    playheads = [attrs for tag, attrs in Elements(dom).tags
                 if tag == "line" and attrs.get("class") == "playhead"]
    assert [attrs["style"] for attrs in playheads] == [
        "visibility: hidden;", "visibility: visible;"]
    assert float(playheads[1]["x1"]) == pytest.approx(LABEL_WIDTH + 6 * QUARTER_WIDTH)
