"""The "notes" encoding: one token per onset, pitch and duration in one string.

This is the LoFi generator's encoding (a note is its pitch name, a chord the
pitch classes of its notes joined by dots) with two things added: rests,
and a duration inside every token.

Token format
------------
    note   "<name><octave>:<duration>"   "E4:1/2", "C#5:1", "A#2:3/2"
    chord  "<pc>.<pc>...:<duration>"     "4.7.11:1"   (sorted pitch classes 0..11)
    rest   "R:<duration>"                "R:1/4"

* A note name is spelled with sharps only ("A#", never "Bb"), so every MIDI
  pitch has one token; octave 4 holds middle C (MIDI 60 = "C4").
* Notes struck at the same (quantized) onset form a chord when they have
  two or more distinct pitch classes.  A chord keeps only its pitch classes,
  not its octaves (as the LoFi generator).  Notes of one pitch class (a
  note, or octaves) are the note token of the highest of them.
* Durations are quarter lengths written as exact fractions ("1/3", not
  0.333), on a grid of ``GRID`` = 1/12 quarter: the finest grid holding both
  sixteenths (3/12) and eighth-note triplets (4/12), which is what music21
  quantizes MIDI files to.  Values longer than ``MAX_DURATION`` = 4 (a 4/4
  bar) are shortened to it, so a long note or a long silence makes the
  piece shorter rather than adding rare tokens.

Time
----
The tokens form one timeline: each token starts where the previous one
ended.  A note or chord token lasts from its onset until the next onset,
or until every note sounding at its onset (struck then or held from
before) has ended, whichever comes first; the silence left before the
next onset is a rest token.  So a note held under a faster voice is cut at
the next onset, and silence before the first note is dropped.

Why one token and not two model outputs
---------------------------------------
Putting the duration in the token multiplies the vocabulary (the default
piano set, ``jazz_lstm.note_corpus.DEFAULT_NOTE_SOURCES``, has 275 distinct sounds
and 10 durations, which combine into 630 tokens) and makes rare
combinations rarer.  A second softmax for the
duration would keep both vocabularies small but needs a second model
output and loss, and would draw pitch and duration independently given the
past, losing their coupling (long chords on strong beats, short passing
notes).  One token keeps the model unchanged and the coupling exact.
"""
from __future__ import annotations

from fractions import Fraction

from music.song import Chord, Measure, MusicError, Note, Song

GRID = Fraction(1, 12)
MAX_DURATION = Fraction(4)
REST = "R"
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Options for music.write.midi.write_midi that play the tokens as piano:
# notes and chords on General MIDI program 0 at one loudness.
MIDI_OPTIONS = {"melody_program": 0, "chord_program": 0, "chord_velocity": 90}


def quantize(quarters) -> Fraction:
    """Quarter lengths rounded to the nearest multiple of GRID."""
    return Fraction(round(Fraction(quarters) / GRID)) * GRID


def pitch_name(pitch: int) -> str:
    """MIDI pitch -> "C4" style name with sharps (60 -> "C4", 61 -> "C#4")."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def events_to_tokens(notes) -> list:
    """Tokens for sounding notes given as (start, end, MIDI pitch) in quarter lengths.

    Starts and ends are quantized to GRID (a note never shrinks to nothing:
    it keeps at least one grid step); order does not matter.
    Returns the token list (see the module doc), empty for no notes.
    """
    struck = {}
    for start, end, pitch in notes:
        onset = quantize(start)
        struck.setdefault(onset, []).append((max(quantize(end), onset + GRID), int(pitch)))
    onsets = sorted(struck)
    tokens = []
    sounding_until = Fraction(0)
    for index, onset in enumerate(onsets):
        group = struck[onset]
        sounding_until = max([sounding_until] + [end for end, _ in group])
        following = onsets[index + 1] if index + 1 < len(onsets) else sounding_until
        sound_end = min(sounding_until, following)
        tokens.append(_sound_token([pitch for _, pitch in group], sound_end - onset))
        if following > sound_end:
            tokens.append(f"{REST}:{_duration_text(following - sound_end)}")
    return tokens


def _sound_token(pitches, duration) -> str:
    classes = sorted({pitch % 12 for pitch in pitches})
    if len(classes) == 1:
        sound = pitch_name(max(pitches))
    else:
        sound = ".".join(str(pc) for pc in classes)
    return f"{sound}:{_duration_text(duration)}"


def _duration_text(duration: Fraction) -> str:
    return str(min(duration, MAX_DURATION))


def parse_token(token: str):
    """("note", MIDI pitch, duration) | ("chord", pitch classes tuple, duration) |
    ("rest", None, duration); duration a Fraction of quarter lengths.

    Raises MusicError naming the token when it is not in the format above.
    """
    sound, separator, duration_text = str(token).rpartition(":")
    try:
        duration = Fraction(duration_text)
    except (ValueError, ZeroDivisionError):
        duration = Fraction(0)
    if not separator or duration <= 0:
        raise MusicError(f"notes token {token!r}: expected <sound>:<duration>, "
                         "e.g. 'E4:1/2', '4.7.11:1' or 'R:1/4'")
    if sound == REST:
        return "rest", None, duration
    if sound[:1].isdigit():
        try:
            classes = tuple(sorted({int(text) for text in sound.split(".")}))
        except ValueError:
            classes = ()
        if len(classes) < 2 or not all(0 <= pc <= 11 for pc in classes):
            raise MusicError(f"notes token {token!r}: a chord needs two or more "
                             "pitch classes 0..11 joined by dots")
        return "chord", classes, duration
    name, octave = sound.rstrip("-0123456789"), sound[len(sound.rstrip("-0123456789")):]
    try:
        pitch = NOTE_NAMES.index(name) + 12 * (int(octave) + 1)
    except ValueError:
        pitch = -1
    if not 0 <= pitch <= 127:
        raise MusicError(f"notes token {token!r}: unknown note name (expected e.g. 'C#4')")
    return "note", pitch, duration


def chord_root(pitch_classes) -> int:
    """A plausible root for a chord token's pitch classes (sorted, 0..11).

    The pitch class with both a perfect fifth and a third above it, else
    one with a fifth, else one with a third, else the lowest: enough to
    voice the chord with its root in the bass.
    """
    present = set(pitch_classes)

    def support(root):
        fifth = (root + 7) % 12 in present
        third = (root + 3) % 12 in present or (root + 4) % 12 in present
        return 2 * fifth + third

    return max(pitch_classes, key=support)


def tokens_to_song(tokens, *, tempo: float = 120.0, title: str = "jazz-lstm notes") -> Song:
    """A Song that plays the tokens one after another.

    Note tokens become melody notes; chord tokens become Chords, which
    ``music.write.midi`` voices with the root (``chord_root``) in the octave
    below middle C and the other pitch classes in the octave above it;
    rests are silence.  The Song is one measure as long as all the tokens:
    the tokens carry no bar lines, and cutting at bar lines would re-strike
    every note crossing one.  Write it with
    ``music.write.midi.write_midi(song, path, **MIDI_OPTIONS)``.

    tempo: quarter notes per minute.  Raises MusicError for a bad token or
    for tokens that hold no note or chord.
    """
    notes, chords = [], []
    position = Fraction(0)
    for token in tokens:
        kind, sound, duration = parse_token(token)
        if kind == "note":
            notes.append(Note(position, duration, sound))
        elif kind == "chord":
            chords.append(Chord(position, duration, chord_root(sound), sound))
        position += duration
    if not notes and not chords:
        raise MusicError(f"{len(tokens)} notes token(s) hold no note or chord to play")
    measure = Measure(length=position, notes=notes, chords=chords, number=1)
    return Song(measures=[measure], tempo=tempo, title=title)
