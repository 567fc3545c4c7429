"""The solo page and the run page: self-contained HTML that says what it should."""
import base64
import re
import shutil
import subprocess
from fractions import Fraction
from html.parser import HTMLParser

import pytest

from jazz_lstm.solo_page import (BARS_PER_ROW, LABEL_WIDTH, QUARTER_WIDTH, ROLE_COLOURS,
                            SEMITONE_HEIGHT, chord_label, display_symbol, solo_html)
from jazz_lstm.report_page import TRAIN_COLOUR, VALIDATION_COLOUR, run_report_html
from music.chords import make_chord
from music.tokens.classic_grammar import role_of
from music.song import Chord, Measure, Note, Song

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class Elements(HTMLParser):
    """Every start tag as (tag, attributes), and the text inside th/td cells."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.cells, self._in_cell = [], [], False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_cell = tag in ("th", "td")

    def handle_endtag(self, tag):
        self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.cells.append(data)

    def with_class(self, name):
        return [attrs for tag, attrs in self.tags if name in attrs.get("class", "").split()]


def _song(bars=2, title="Test solo"):
    """Bar 1 over C: C4 D4 Eb4 Bb4 (chord, scale, approach, other under C E G
    with Lydian C D E F# G A B: Bb's neighbours A and B are no chord tones);
    bar 2 over G7: G4, a rest, A4 (G B D F, Mixolydian G A B C D E F: chord,
    then scale).  More bars repeat bar 2."""
    first = Measure(4, [Note(0, 1, 60), Note(1, 1, 62), Note(2, 1, 63), Note(3, 1, 70)],
                    [make_chord("C", 0, 4)], number=1)
    other = Measure(4, [Note(0, Fraction(1, 2), 67), Note(Fraction(1, 2), Fraction(1, 2), None),
                        Note(1, 3, 69)], [make_chord("G7", 0, 4)], number=2)
    return Song(measures=[first] + [other] * (bars - 1), tempo=132, title=title)


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


def _chromium(*arguments, profile):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                           *arguments], check=True, capture_output=True, text=True, timeout=120)


needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM),
    reason="Chromium is not installed (apt-get install chromium), so pages are not rendered")


def _distinct_colours(png_path):
    image = pytest.importorskip("PIL.Image").open(png_path).convert("RGB")
    return {colour for _, colour in image.getcolors(maxcolors=1 << 24)}


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


# ---------------------------------------------------------------- run page

def _history(with_validation=True):
    """Loss falling 3, 2, 1.5, 1.2; accuracy rising; validation loss lowest
    (0.9) at epoch 3; 0.5 s per epoch."""
    rows = [{"epoch": 1, "loss": 3.0, "accuracy": 0.2, "seconds": 0.5},
            {"epoch": 2, "loss": 2.0, "accuracy": 0.4, "seconds": 0.5},
            {"epoch": 3, "loss": 1.5, "accuracy": 0.5, "seconds": 0.5},
            {"epoch": 4, "loss": 1.2, "accuracy": 0.6, "seconds": 0.5}]
    if with_validation:
        for row, val_loss in zip(rows, (3.1, 1.4, 0.9, 1.0)):
            row.update(val_loss=val_loss, val_accuracy=0.1 + row["accuracy"] / 2)
    return rows


def _curve_paths(page, colour):
    """The y coordinates of each SVG path drawn in ``colour``, one list per path."""
    paths = re.findall(r'<path d="([^"]*)"[^>]*style="fill: none;[^"]* stroke: ' + colour, page)
    return [[float(y) for y in re.findall(r"[ML] [-\d.]+ ([-\d.]+)", path)] for path in paths]


def test_run_page_draws_training_and_validation_curves():
    page = run_report_html(_history(), {"preset": "course"}, None)
    training = [ys for ys in _curve_paths(page, TRAIN_COLOUR) if len(ys) == 4]
    validation = [ys for ys in _curve_paths(page, VALIDATION_COLOUR) if len(ys) == 4]
    assert len(training) == 2 and len(validation) == 2
    loss_ys, accuracy_ys = training
    # SVG y grows downwards: a falling loss climbs down the page, a rising accuracy up.
    assert loss_ys == sorted(loss_ys) and accuracy_ys == sorted(accuracy_ys, reverse=True)
    assert "validation" in page


def test_run_page_without_validation_draws_training_only():
    page = run_report_html(_history(with_validation=False), {}, None)
    assert len([ys for ys in _curve_paths(page, TRAIN_COLOUR) if len(ys) == 4]) == 2
    assert _curve_paths(page, VALIDATION_COLOUR) == []
    assert "validation" not in page


def test_run_page_summary_settings_and_evaluation():
    page = run_report_html(_history(), {"hidden_size": 64, "seed": 3},
                           {"chord tone share": 0.61, "pitch range": [55, 84]})
    cells = Elements(page).cells
    for name, shown in [("epochs", "4"), ("final loss", "1.2"), ("final accuracy", "0.6"),
                        ("best validation loss", "0.9000 at epoch 3"),
                        ("training time", "2.0 s"), ("hidden_size", "64"), ("seed", "3"),
                        ("chord tone share", "0.61"), ("pitch range", "[55, 84]")]:
        assert cells[cells.index(name) + 1] == shown
    assert "http://" not in page and "https://" not in page


def test_run_page_without_evaluation_or_epochs():
    page = run_report_html([], {"seed": 1}, None)
    assert "No epoch has finished yet" in page
    assert "<svg" not in page and "Evaluation" not in page


def test_same_history_same_run_page():
    assert run_report_html(_history(), {"a": 1}, {"b": 2}) == run_report_html(
        _history(), {"a": 1}, {"b": 2})


@pytest.mark.parametrize("rows, message", [
    ([{"epoch": 1, "loss": 1.0}], "history row 1 lacks accuracy"),
    ([{"epoch": 1, "loss": 1.0, "accuracy": 0.5}, {"epoch": 2, "loss": "x", "accuracy": 0.5}],
     "history row 2: loss must be a number, got 'x'"),
    ([[1, 1.0, 0.5]], "history row 1 must be a dict"),
])
def test_bad_history_rows_are_named(rows, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run_report_html(rows, {}, None)


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
