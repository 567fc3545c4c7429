"""The book of progressions: names, keys, spelling, bar counts."""
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from music.chords import parse_progression
from music.progressions import (FORMS, KEYS, expand_progression, list_progressions,
                                transpose_progression)
from music.song import MusicError

PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
ROOT = re.compile(r"^([A-G])([#b]?)")
FLAT_KEYS = ("F", "Bb", "Eb", "Ab", "Db", "Gb")
SHARP_KEYS = ("G", "D", "A", "E", "B", "F#")
MAJOR_FORMS = ("blues", "rhythm", "ii-V-I", "turnaround", "song-aaba", "song-abac")


def _pitch_class(note: str) -> int:
    letter, accidental = ROOT.match(note).groups()
    return (PITCH_CLASS[letter] + {"": 0, "#": 1, "b": -1}[accidental]) % 12


def _roots(progression: str) -> list:
    return [ROOT.match(symbol).group(0) for symbol in progression.replace("|", " ").split()]


def test_ii_v_i_moves_from_c_to_d():
    assert expand_progression("ii-V-I:C") == "Dm7 G7 | Cmaj7"
    assert expand_progression("ii-V-I:D") == "Em7 A7 | Dmaj7"


def test_blues_in_f_spelled_with_flats():
    assert expand_progression("blues:F") == (
        "F7 | Bb7 | F7 | Cm7 F7 | Bb7 | Bdim7 | F7 | Dm7 G7 | Gm7 | C7 | F7 D7 | Gm7 C7")


def test_minor_cadence_in_g():
    assert expand_progression("minor-ii-V-i:G") == "Am7b5 D7b9 | Gm6"


def test_blues_in_bb_raised_fourth_is_e_diminished():
    bars = expand_progression("blues:Bb").split(" | ")
    assert bars[1] == "Eb7" and bars[5] == "Edim7"


def test_a_bare_name_takes_the_default_key_and_names_ignore_case():
    assert expand_progression("blues") == expand_progression("blues:F")
    assert expand_progression("RHYTHM:bb") == expand_progression("rhythm:Bb")
    assert expand_progression("rhythm").startswith("Bbmaj7 Gm7 | Cm7 F7")


@pytest.mark.parametrize("text", ["Dm7 G7 | Cmaj7", "  | C7 | F7 |  ", "Bb7", "blue"])
def test_plain_progressions_pass_through_unchanged(text):
    assert expand_progression(text) == text


def test_unknown_name_lists_the_book_in_one_line():
    with pytest.raises(MusicError) as caught:
        expand_progression("bluez:F")
    message = str(caught.value)
    assert "\n" not in message and "'bluez'" in message
    assert all(name in message for name in FORMS)


@pytest.mark.parametrize("key", ["H", "E#", "Bbb", "F##", "1"])
def test_unknown_key_is_named(key):
    with pytest.raises(MusicError, match=f"unknown key '{re.escape(key)}'"):
        expand_progression(f"blues:{key}")


def test_bar_counts():
    bars = {name: count for name, _, count in list_progressions()}
    assert bars == {"blues": 12, "minor-blues": 12, "rhythm": 32, "ii-V-I": 2,
                    "minor-ii-V-i": 2, "turnaround": 2, "song-aaba": 32, "minor-aaba": 32,
                    "modal-aaba": 32, "song-abac": 32}
    for name, count in bars.items():
        assert len(parse_progression(expand_progression(name))) == count


def test_every_form_has_a_description():
    assert all(len(description) > 10 for _, description, _ in list_progressions())


@pytest.mark.parametrize("name", list(FORMS))
@pytest.mark.parametrize("key", ["Db", "F#"])
def test_every_form_parses_in_remote_keys(name, key):
    bars = parse_progression(expand_progression(f"{name}:{key}"))
    assert _pitch_class(key) in {chord.root for bar in bars for chord in bar}


@given(st.sampled_from(list(FORMS)), st.sampled_from(KEYS))
def test_transposition_moves_every_root_by_the_key(name, key):
    in_c = _roots(expand_progression(f"{name}:C"))
    moved = _roots(expand_progression(f"{name}:{key}"))
    shift = _pitch_class(key)
    assert [_pitch_class(root) for root in moved] == [(_pitch_class(root) + shift) % 12
                                                       for root in in_c]


@given(st.sampled_from(list(FORMS)), st.sampled_from(FLAT_KEYS))
def test_flat_keys_never_spell_a_sharp(name, key):
    assert "#" not in expand_progression(f"{name}:{key}")


@given(st.sampled_from(MAJOR_FORMS), st.sampled_from(SHARP_KEYS))
def test_major_forms_in_sharp_keys_spell_no_flat_root(name, key):
    assert not any(root.endswith("b") for root in _roots(expand_progression(f"{name}:{key}")))


def test_slash_bass_moves_with_the_root():
    assert transpose_progression("C/E | F7/A", "C", "Bb") == "Bb/D | Eb7/G"
