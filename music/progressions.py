"""A small book of chord progressions, named and transposable: ``blues:F``.

Every form is written once, in C (minor forms in C minor), as generic
changes: the usual harmony of the form, not any one tune's lead sheet.
``expand_progression("blues:Bb")`` transposes a form to the key after the
colon (the key names the tonic, major or minor as the form is); without a
key the form's own default key is used.

Spelling follows the letters, as a musician transposes: a root moves up as
many letter names as the key's tonic lies above C, and takes the accidental
that gives the right pitch.  So F#dim7 in C becomes Bdim7 in F and Edim7 in
Bb, and Bb7 stays a flat.  Where that would need a double accidental or
Cb/Fb/E#/B#, the root is respelled with flats, or with sharps in a key
whose name has a sharp.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from music.chords import parse_progression
from music.song import MusicError

LETTERS = "CDEFGAB"
NATURAL_PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
ACCIDENTAL_STEPS = {"": 0, "#": 1, "b": -1}
FLAT_SPELLING = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
SHARP_SPELLING = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Single-accidental names that still read badly as chord roots.
AWKWARD_NAMES = frozenset({"Cb", "Fb", "E#", "B#"})
KEYS = tuple(letter + accidental for letter in LETTERS for accidental in ("", "b", "#")
             if letter + accidental not in AWKWARD_NAMES)

_NOTE = re.compile(r"^([A-G])([#b]?)$")
_SYMBOL = re.compile(r"^([A-G][#b]?)([^/]*)(?:/([A-G][#b]?))?$")


class Form(NamedTuple):
    """One entry of the book: its changes in C (or C minor), bar lines "|"."""

    description: str
    default_key: str
    changes: str


def _bars(*sections: str) -> str:
    return " | ".join(sections)


_RHYTHM_A1 = "Cmaj7 Am7 | Dm7 G7 | Em7 A7 | Dm7 G7 | Gm7 C7 | Fmaj7 F#dim7 | Em7 A7 | Dm7 G7"
_RHYTHM_A2 = "Cmaj7 Am7 | Dm7 G7 | Em7 A7 | Dm7 G7 | Gm7 C7 | Fmaj7 F#dim7 | Dm7 G7 | C6"
_SONG_A1 = "Cmaj7 | Am7 | Dm7 | G7 | Em7 A7 | Dm7 G7 | Cmaj7 A7 | Dm7 G7"
_SONG_A2 = "Cmaj7 | Am7 | Dm7 | G7 | Em7 A7 | Dm7 G7 | C6 | C6"
_MINOR_A1 = "Cm7 | Cm7 | Fm7 | Fm7 | Dm7b5 | G7 | Cm7 | Dm7b5 G7"
_MINOR_A2 = "Cm7 | Cm7 | Fm7 | Fm7 | Dm7b5 | G7 | Cm6 | Cm6"
_ABAC_A = "Cmaj7 | Am7 | Em7b5 | A7 | Dm7 | Dm7 | G7 | G7"

FORMS = {
    "blues": Form(
        "12-bar jazz blues: I7 IV7 I7, IV7 and #IV diminished, a vi-II turn to "
        "ii-V, I-VI-ii-V turnaround", "F",
        "C7 | F7 | C7 | Gm7 C7 | F7 | F#dim7 | C7 | Am7 D7 | Dm7 | G7 | C7 A7 | Dm7 G7"),
    "minor-blues": Form(
        "12-bar minor blues: i iv i, bVI7 to V7, a minor ii-V back to the top", "C",
        "Cm7 | Fm7 | Cm7 | Cm7 | Fm7 | Fm7 | Cm7 | Cm7 | Ab7 | G7 | Cm7 | Dm7b5 G7"),
    "rhythm": Form(
        "rhythm changes, 32 bars AABA: I-vi-ii-V A sections, a bridge of "
        "dominants III7 VI7 II7 V7", "Bb",
        _bars(_RHYTHM_A1, _RHYTHM_A2, "E7 | E7 | A7 | A7 | D7 | D7 | G7 | G7", _RHYTHM_A2)),
    "ii-V-I": Form("major ii-V-I cadence, 2 bars", "C", "Dm7 G7 | Cmaj7"),
    "minor-ii-V-i": Form("minor ii-V-i cadence, 2 bars", "C", "Dm7b5 G7b9 | Cm6"),
    "turnaround": Form("I-vi-ii-V turnaround, 2 bars", "C", "Cmaj7 Am7 | Dm7 G7"),
    "song-aaba": Form(
        "32-bar AABA song form: I-vi-ii-V A sections, a bridge that moves to IV "
        "through its ii-V", "Eb",
        _bars(_SONG_A1, _SONG_A2, "Gm7 | C7 | Fmaj7 | Fmaj7 | Am7 | D7 | Dm7 | G7", _SONG_A2)),
    "minor-aaba": Form(
        "32-bar AABA in minor: i-iv A sections with minor ii-Vs, a bridge "
        "through the relative major", "C",
        _bars(_MINOR_A1, _MINOR_A2, "Gm7 | C7 | Fm7 | Bb7 | Ebmaj7 | Abmaj7 | Dm7b5 | G7",
              _MINOR_A2)),
    "modal-aaba": Form(
        "32-bar AABA modal form: 16 bars on one minor seventh chord, a bridge "
        "a half step up, then back", "D",
        _bars(*["Cm7"] * 16, *["Dbm7"] * 8, *["Cm7"] * 8)),
    "song-abac": Form(
        "32-bar ABAC song form: ii-V-Is into the relative keys, IV to iv in the "
        "last section", "F",
        _bars(_ABAC_A, "Em7 | A7 | Dm7 | G7 | Cmaj7 | Fmaj7 | Em7 A7 | Dm7 G7",
              _ABAC_A, "Fmaj7 | Fm6 Bb7 | Em7 | A7 | Dm7 | G7 | C6 | Dm7 G7")),
}


def list_progressions() -> list:
    """(name, description, bars) of every form in the book, in book order."""
    return [(name, form.description, bar_count(form.changes)) for name, form in FORMS.items()]


def bar_count(progression: str) -> int:
    """Bars of a progression string ("Dm7 G7 | Cmaj7" has 2)."""
    return len(progression.strip().strip("|").split("|"))


def expand_progression(text: str) -> str:
    """The plain progression for ``name:key`` (or a bare ``name``), e.g.
    "ii-V-I:D" -> "Em7 A7 | Dmaj7"; any other text is returned unchanged.

    Names are matched ignoring case.  Raises MusicError on an unknown name
    (listing the known ones) or an unknown key.
    """
    stripped = text.strip()
    if ":" not in stripped and stripped.lower() not in _BY_LOWER_NAME:
        return text
    name, _, key = stripped.partition(":")
    form = _BY_LOWER_NAME.get(name.strip().lower())
    if form is None:
        raise MusicError(f"unknown progression {name.strip()!r}; the book has: "
                         f"{', '.join(FORMS)}")
    return transpose_progression(form.changes, "C", key.strip() or form.default_key)


def progression_bars(text: str, beats_per_bar=4) -> list:
    """One list of Chords per bar of a progression or a named form:
    ``parse_progression(expand_progression(text), beats_per_bar)``.  When the
    text cannot be read but names a form ("blues in F"), the MusicError says
    how to write it ("blues:F")."""
    try:
        return parse_progression(expand_progression(text), beats_per_bar)
    except MusicError as error:
        raise MusicError(f"{error}{_form_hint(text)}") from None


def _form_hint(text: str) -> str:
    """"; for the blues form in F write blues:F" when a word of text names a form
    (and a later word a key), else ""."""
    words = [word.strip(",.;:()") for word in text.split()]
    for position, word in enumerate(words):
        form = _BY_LOWER_NAME.get(word.lower())
        if form is None:
            continue
        name = next(name for name in FORMS if name.lower() == word.lower())
        key = next((later for later in words[position + 1:] if _is_key(later)),
                   form.default_key)
        return f"; for the {name} form in {_key_name(key)}, write {name}:{_key_name(key)}"
    return ""


def _is_key(word: str) -> bool:
    try:
        _key_name(word)
    except MusicError:
        return False
    return True


def transpose_progression(progression: str, from_key: str, to_key: str) -> str:
    """The progression moved from one tonic to another, spelled by letter
    (see the module docstring).  Keys are note names such as "C", "Bb", "F#"."""
    from_letter, from_pitch_class = _note(_key_name(from_key))
    to_letter, to_pitch_class = _note(_key_name(to_key))
    letter_steps = LETTERS.index(to_letter) - LETTERS.index(from_letter)
    semitones = to_pitch_class - from_pitch_class
    spelling = SHARP_SPELLING if "#" in _key_name(to_key) else FLAT_SPELLING
    bars = []
    for bar in progression.strip().strip("|").split("|"):
        bars.append(" ".join(_transpose_symbol(symbol, letter_steps, semitones, spelling)
                             for symbol in bar.split()))
    return " | ".join(bars)


_BY_LOWER_NAME = {name.lower(): form for name, form in FORMS.items()}


def _key_name(key: str) -> str:
    """The key as written in KEYS ("bb" -> "Bb"); MusicError naming a bad one."""
    name = key.strip()[:1].upper() + key.strip()[1:]
    if name not in KEYS:
        raise MusicError(f"unknown key {key!r}; keys are {', '.join(KEYS)}")
    return name


def _note(name: str) -> tuple:
    """(letter, pitch class) of a note name such as "Bb"."""
    letter, accidental = _NOTE.match(name).groups()
    return letter, (NATURAL_PITCH_CLASS[letter] + ACCIDENTAL_STEPS[accidental]) % 12


def _transpose_symbol(symbol: str, letter_steps: int, semitones: int, spelling) -> str:
    match = _SYMBOL.match(symbol)
    if match is None:
        raise MusicError(f"chord symbol {symbol!r} does not start with a note name A-G")
    root, suffix, bass = match.groups()
    moved = _transpose_note(root, letter_steps, semitones, spelling) + suffix
    if bass:
        moved += "/" + _transpose_note(bass, letter_steps, semitones, spelling)
    return moved


def _transpose_note(name: str, letter_steps: int, semitones: int, spelling) -> str:
    letter, pitch_class = _note(name)
    new_letter = LETTERS[(LETTERS.index(letter) + letter_steps) % 7]
    new_pitch_class = (pitch_class + semitones) % 12
    # Signed distance from the new letter's natural note, in -6..5.
    alteration = (new_pitch_class - NATURAL_PITCH_CLASS[new_letter] + 6) % 12 - 6
    spelled = new_letter + {0: "", 1: "#", -1: "b"}.get(alteration, "?")
    if spelled.endswith("?") or spelled in AWKWARD_NAMES:
        return spelling[new_pitch_class]
    return spelled
