"""The solo page: one self-contained HTML file to see and hear a solo.

A piano roll drawn as SVG, ``BARS_PER_ROW`` bars to a row: time runs left
to right at ``QUARTER_WIDTH`` pixels per quarter note, pitch runs upwards
at ``SEMITONE_HEIGHT`` pixels per semitone over the solo's range (padded by
``PITCH_PADDING`` semitones), black-key rows shaded as on a keyboard.
Above each row a chord lane shows the chord symbols where they sound.
Each melody note is one ``<rect class="note role-R" data-role="R">``,
coloured by R = ``music.tokens.classic_grammar.role_of(pitch, measure.chord_at(start))``:
C chord tone, S scale tone, A approach tone, X other.

``solo_fragment`` lays out, top to bottom: the title with bars, metre, tempo
and seed; the audio player (while it plays, a playhead line moves across
the roll); the roll with a legend counting each role; the chord chart; and
the settings the solo was made with.  All of it sits in one element with
its own id, whose styles and player touch nothing outside it, so a notebook
can show several solos; ``solo_html`` puts one in a page of its own.
"""
from __future__ import annotations

import base64
import html
import json
import re
from fractions import Fraction
from pathlib import Path

from jazz_lstm.html import fragment, page, section, table
from music.tokens.classic_grammar import ROLES, role_of
from music.progressions import NATURAL_PITCH_CLASS
from music.song import Song

DEFAULT_TITLE = "jazz-lstm solo"
BARS_PER_ROW = 4
QUARTER_WIDTH = 52          # pixels per quarter note
SEMITONE_HEIGHT = 7         # pixels per semitone
PITCH_PADDING = 2           # semitones of room above and below the highest and lowest note
MIN_PITCH_SPAN = 14         # semitones shown at least, so a narrow solo is not stretched
LABEL_WIDTH = 40            # pixels left of the roll for octave labels
CHORD_LANE_HEIGHT = 28      # pixels above the roll for chord symbols
EMPTY_RANGE = (60, 72)      # pitches shown when the solo has no sounding note

ROLE_NAMES = {"C": "chord tone", "S": "scale tone", "A": "approach tone", "X": "other"}
ROLE_COLOURS = {"C": "#2563eb", "S": "#16a34a", "A": "#f59e0b", "X": "#dc2626"}
NOTE_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")
BLACK_KEYS = frozenset({1, 3, 6, 8, 10})

SOLO_CSS = """
.roll svg { display: block; width: 100%; height: auto; margin: 0 0 10px; }
.roll .stripe { fill: #f1f5f9; }
.roll .octave { stroke: #cbd5e1; stroke-width: 1; }
.roll .beat { stroke: #eef2f6; stroke-width: 1; }
.roll .bar { stroke: #94a3b8; stroke-width: 1.2; }
.roll .change { stroke: #94a3b8; stroke-width: 1; stroke-dasharray: 3 3; }
.roll .label { fill: #94a3b8; font-size: 10px; }
.roll .bar-number { fill: #94a3b8; font-size: 10px; }
.roll .chord-box { fill: #f8fafc; stroke: #e2e8f0; }
.roll .chord { fill: #0f172a; font-size: 14px; font-weight: 600; }
.roll .note { stroke: rgba(15, 23, 42, 0.35); stroke-width: 0.6; }
.roll .playhead { stroke: #0f172a; stroke-width: 2; visibility: hidden; }
.legend { display: flex; flex-wrap: wrap; gap: 8px 22px; margin: 4px 0 0; padding: 0;
  list-style: none; font-size: 14px; }
.legend .swatch { display: inline-block; width: 14px; height: 10px; border-radius: 2px;
  margin-right: 7px; vertical-align: 0; }
.legend .count { color: var(--muted); margin-left: 4px; }
audio { width: 100%; }
.chart { display: grid; grid-template-columns: repeat(4, 1fr); border-left: 2px solid #94a3b8; }
.chart div { border-right: 2px solid #94a3b8; padding: 6px 10px; font-weight: 600;
  border-bottom: 1px solid var(--line); min-height: 34px; }
.chart .number { color: #94a3b8; font-size: 10px; font-weight: 400; margin-right: 6px; }
"""

# Moves the playhead of the solo whose element has the id SOLO_ID with its own
# audio: quarter q of the solo lies in the row whose data-start <= q < data-end,
# at x = data-left + (q - start) * data-scale.
PLAYHEAD_SCRIPT = """
(function () {
  var solo = document.getElementById(SOLO_ID);
  var audio = solo && solo.querySelector("audio");
  if (!audio) return;
  var rows = Array.prototype.slice.call(solo.querySelectorAll(".roll svg"));
  var quartersPerSecond = parseFloat(solo.querySelector(".roll").dataset.tempo) / 60;
  function draw() {
    var quarter = audio.currentTime * quartersPerSecond;
    rows.forEach(function (row) {
      var line = row.querySelector(".playhead");
      var start = parseFloat(row.dataset.start), end = parseFloat(row.dataset.end);
      var inside = quarter >= start && quarter < end && audio.currentTime > 0;
      line.style.visibility = inside ? "visible" : "hidden";
      if (inside) {
        var x = parseFloat(row.dataset.left) + (quarter - start) * parseFloat(row.dataset.scale);
        line.setAttribute("x1", x); line.setAttribute("x2", x);
      }
    });
    if (!audio.paused) requestAnimationFrame(draw);
  }
  audio.addEventListener("play", draw);
  audio.addEventListener("seeked", draw);
  audio.addEventListener("pause", draw);
})();
"""


def display_symbol(symbol: str, root: int | None = None) -> str:
    """A chord symbol with typeset accidentals: "Bb7b9" -> "B♭7♭9".

    Symbols named by music21 write a flat as "-", which jazz writes for
    minor: "B-M9" is B flat major ninth, "D-7" D minor seventh.  Given the
    chord's root pitch class, a "-" after the root letter that makes it the
    root is read as a flat; after a slash it always is one.
    """
    if (root is not None and symbol[1:2] == "-" and symbol[:1] in NATURAL_PITCH_CLASS
            and (NATURAL_PITCH_CLASS[symbol[0]] - 1) % 12 == root):
        symbol = symbol[0] + "b" + symbol[2:]
    symbol = re.sub(r"/([A-G])-", r"/\1b", symbol)
    return re.sub(r"(?<=[A-G0-9])b", "♭", symbol).replace("#", "♯")


def chord_label(chord) -> str:
    """The chord's symbol, or its pitch classes from the root up when it has none."""
    if chord.symbol:
        return display_symbol(chord.symbol, chord.root)
    above_root = sorted(chord.pitch_classes, key=lambda pc: (pc - chord.root) % 12)
    return "(" + " ".join(NOTE_NAMES[pc] for pc in above_root) + ")"


def pitch_label(pitch: int) -> str:
    """MIDI pitch as a name with octave: 60 -> "C4", 70 -> "B♭4"."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def solo_html(song: Song, *, wav_bytes: bytes | None = None, wav_path=None,
              settings: dict) -> str:
    """The solo page: ``solo_fragment`` (same arguments) in a page of its own."""
    return page(song.title or DEFAULT_TITLE, solo_fragment(
        song, "solo", wav_bytes=wav_bytes, wav_path=wav_path, settings=settings))


def solo_fragment(song: Song, element_id: str, *, wav_bytes: bytes | None = None,
                  wav_path=None, settings: dict) -> str:
    """The solo (see the module docstring) as one HTML element with id ``element_id``.

    wav_bytes: a WAV file's bytes, embedded as a data URL; or
    wav_path:  a link to a WAV file, written as given (a path relative to
               the page, so that the two files travel together);
    settings:  what the solo was made with (seed, temperature, ...), shown
               in a table; "seed" also goes into the subtitle.
    Raises ValueError when both audio sources are given or the link is a URL.
    """
    if wav_bytes is not None and wav_path is not None:
        raise ValueError("solo page: give wav_bytes or wav_path, not both")
    title = song.title or DEFAULT_TITLE
    numerator, denominator = song.time_signature
    facts = [f"{len(song.measures)} bars", f"{numerator}/{denominator}", f"♩ = {song.tempo:g}"]
    if "seed" in settings:
        facts.append(f"seed {settings['seed']}")
    body = (f"<h1>{html.escape(title)}</h1>\n"
            f"<p class=\"subtitle\">{html.escape(' · '.join(facts))}</p>\n"
            + section("Listen", _audio(wav_bytes, wav_path))
            + section("Piano roll", piano_roll(song) + "\n" + legend(song))
            + section("Chords", chord_chart(song))
            + section("Settings", table(sorted(settings.items()))))
    has_audio = wav_bytes is not None or wav_path is not None
    script = PLAYHEAD_SCRIPT.replace("SOLO_ID", json.dumps(element_id)) if has_audio else ""
    return fragment(element_id, body, SOLO_CSS, script)


def note_roles(song: Song) -> list:
    """(PlayedNote, role, chord) of every note as played (a note held over
    bar lines once), in order, with the chord sounding where it is struck
    (None: no chord) and its role under that chord."""
    roles = []
    for note in song.melody_notes:
        chord = song.measures[note.bar].chord_at(note.start)
        roles.append((note, role_of(note.pitch, chord), chord))
    return roles


def pitch_range(song: Song) -> tuple:
    """(lowest, highest) MIDI pitch the roll shows, padded and at least
    MIN_PITCH_SPAN semitones apart."""
    pitches = [note.pitch for note in song.melody_notes]
    if not pitches:
        return EMPTY_RANGE
    low, high = min(pitches) - PITCH_PADDING, max(pitches) + PITCH_PADDING
    missing = MIN_PITCH_SPAN - (high - low)
    if missing > 0:
        low -= missing // 2
        high += missing - missing // 2
    return max(low, 0), min(high, 127)


def piano_roll(song: Song) -> str:
    """The roll as one SVG per row of BARS_PER_ROW bars, inside a div."""
    low, high = pitch_range(song)
    roles = note_roles(song)
    rows, start = [], Fraction(0)
    for first in range(0, len(song.measures), BARS_PER_ROW):
        measures = song.measures[first:first + BARS_PER_ROW]
        end = start + sum((measure.length for measure in measures), Fraction(0))
        # A note held over into this row from the row before shows here too.
        row_roles = [entry for entry in roles if entry[0].time < end and entry[0].end > start]
        rows.append(_roll_row(measures, first, start, row_roles, low, high))
        start = end
    return f'<div class="roll" data-tempo="{song.tempo:g}">\n' + "\n".join(rows) + "\n</div>"


def _roll_row(measures, first_bar: int, row_start: Fraction, roles, low: int, high: int) -> str:
    bar_starts, position = [], Fraction(0)
    for measure in measures:
        bar_starts.append(position)
        position += measure.length
    # Every row is as wide as a full row of the first bar's length, so rows line up.
    width = LABEL_WIDTH + float(max(position, measures[0].length * BARS_PER_ROW)) * QUARTER_WIDTH
    roll_top = CHORD_LANE_HEIGHT
    height = roll_top + (high - low + 1) * SEMITONE_HEIGHT + 1

    def x_of(bar: int, offset) -> float:
        return LABEL_WIDTH + float(bar_starts[bar] + offset) * QUARTER_WIDTH

    def x_at(time) -> float:
        return LABEL_WIDTH + float(time - row_start) * QUARTER_WIDTH

    def y_of(pitch: int) -> float:
        return roll_top + (high - pitch) * SEMITONE_HEIGHT

    roll_right = x_of(len(measures) - 1, measures[-1].length)
    parts = []
    for pitch in range(low, high + 1):
        if pitch % 12 in BLACK_KEYS:
            parts.append(_rect("stripe", LABEL_WIDTH, y_of(pitch), roll_right - LABEL_WIDTH,
                               SEMITONE_HEIGHT))
        if pitch % 12 == 0:
            y = y_of(pitch) + SEMITONE_HEIGHT
            parts.append(_line("octave", LABEL_WIDTH, y, roll_right, y))
            parts.append(f'<text class="label" x="{LABEL_WIDTH - 6}" y="{y - 1:.1f}" '
                         f'text-anchor="end">{pitch_label(pitch)}</text>')
    for bar, measure in enumerate(measures):
        for beat in range(1, int(measure.length) + (measure.length.denominator > 1)):
            parts.append(_line("beat", x_of(bar, beat), roll_top, x_of(bar, beat), height - 1))
        for chord in measure.chords:
            left, right = x_of(bar, chord.start), x_of(bar, chord.end)
            parts.append(_rect("chord-box", left + 1, 2, right - left - 2, CHORD_LANE_HEIGHT - 6))
            parts.append(f'<text class="chord" x="{left + 6:.1f}" y="{CHORD_LANE_HEIGHT - 10}" '
                         f'data-symbol="{html.escape(chord.symbol)}">'
                         f'{html.escape(chord_label(chord))}</text>')
            if chord.start > 0:
                parts.append(_line("change", left, roll_top, left, height - 1))
        parts.append(_line("bar", x_of(bar, 0), roll_top, x_of(bar, 0), height - 1))
        # Inside the top padding of the roll, which no note reaches.
        parts.append(f'<text class="bar-number" x="{x_of(bar, 0) + 4:.1f}" '
                     f'y="{roll_top + 10}">{first_bar + bar + 1}</text>')
    parts.append(_line("bar", roll_right, roll_top, roll_right, height - 1))
    row_end = row_start + position
    for note, role, chord in roles:
        tip = (f"{pitch_label(note.pitch)} · {ROLE_NAMES[role]}"
               f"{' of ' + chord_label(chord) if chord else ''} · bar {note.bar + 1}")
        left, right = max(note.time, row_start), min(note.end, row_end)
        parts.append(
            f'<rect class="note role-{role}" data-role="{role}" data-pitch="{note.pitch}" '
            f'x="{x_at(left) + 0.5:.1f}" y="{y_of(note.pitch):.1f}" '
            f'width="{max(float(right - left) * QUARTER_WIDTH - 1.5, 2):.1f}" '
            f'height="{SEMITONE_HEIGHT}" rx="2" fill="{ROLE_COLOURS[role]}">'
            f'<title>{html.escape(tip)}</title></rect>')
        # A note held over a bar line is one bar of the roll, the line drawn through it.
        for bar_start in bar_starts[1:]:
            if left < row_start + bar_start < right:
                x = x_at(row_start + bar_start)
                parts.append(_line("bar", x, y_of(note.pitch), x, y_of(note.pitch) + SEMITONE_HEIGHT))
    parts.append(_line("playhead", LABEL_WIDTH, roll_top, LABEL_WIDTH, height - 1))
    return (f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'aria-label="bars {first_bar + 1} to {first_bar + len(measures)}" '
            f'data-start="{float(row_start):g}" data-end="{float(row_end):g}" '
            f'data-left="{LABEL_WIDTH}" data-scale="{QUARTER_WIDTH}">\n'
            + "\n".join(parts) + "\n</svg>")


def _rect(css_class: str, x: float, y: float, width: float, height: float) -> str:
    return (f'<rect class="{css_class}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{width:.1f}" height="{height:.1f}"/>')


def _line(css_class: str, x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line class="{css_class}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>'


def legend(song: Song) -> str:
    """The role colours with how many notes have each role."""
    counts = {role: 0 for role in ROLES}
    for _, role, _ in note_roles(song):
        counts[role] += 1
    total = sum(counts.values()) or 1
    items = [f'<li><span class="swatch" style="background:{ROLE_COLOURS[role]}"></span>'
             f'{role} {ROLE_NAMES[role]}<span class="count">{counts[role]} '
             f'({100 * counts[role] / total:.0f}%)</span></li>' for role in ROLES]
    return '<ul class="legend">\n' + "\n".join(items) + "\n</ul>"


def chord_chart(song: Song) -> str:
    """The chords bar by bar, four bars to a line, as on a lead sheet."""
    cells = []
    for number, measure in enumerate(song.measures, start=1):
        symbols = " ".join(chord_label(chord) for chord in measure.chords) or "—"
        cells.append(f'<div><span class="number">{number}</span>{html.escape(symbols)}</div>')
    return '<div class="chart">\n' + "\n".join(cells) + "\n</div>"


def _audio(wav_bytes: bytes | None, wav_path) -> str:
    if wav_bytes is not None:
        encoded = base64.b64encode(wav_bytes).decode("ascii")
        return f'<audio controls preload="auto" src="data:audio/wav;base64,{encoded}"></audio>'
    if wav_path is not None:
        link = wav_path.as_posix() if isinstance(wav_path, Path) else str(wav_path)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//", link):
            raise ValueError(f"solo page: wav_path {link!r} must be a file path, not a URL")
        return f'<audio controls preload="auto" src="{html.escape(link)}"></audio>'
    return '<p class="subtitle">No audio was rendered for this solo.</p>'
