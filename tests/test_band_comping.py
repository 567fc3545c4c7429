"""music.band.comping: every chord struck on the eighth grid, under the melody."""
from fractions import Fraction as F

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from music.band.arrange import arrange
from music.band.comping import comp_sounds
from music.metre import song_beats
from music.song import Note
from tests.band_helpers import progression_song, II_V_I


def test_every_chord_is_struck_and_strikes_sit_on_the_eighth_grid():
    song = progression_song(II_V_I * 3)
    for seed in range(5):
        sounds = comp_sounds(song_beats(song), [], np.random.default_rng(seed), 62)
        starts = {sound.start for sound in sounds}
        for bar in range(15):
            chords = song.measures[bar].chords
            for each in chords:
                assert any(bar * 4 + each.start <= t < bar * 4 + each.end for t in starts)
        assert all((2 * t).denominator == 1 for t in starts)
        assert all(len([s for s in sounds if s.start == t]) == 3 for t in starts)
        # a strike is let go by the next one, so no key is ever held twice
        ordered = sorted(sounds)
        for earlier, later in zip(ordered, ordered[3:]):
            assert earlier.end <= later.start


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(62, 84) | st.none(), min_size=8, max_size=8),
                min_size=5, max_size=5),
       st.integers(0, 1000))
def test_the_melody_sits_above_the_comping(pitches, seed):
    melody = [[Note(F(k, 2), F(1, 2), pitch) for k, pitch in enumerate(bar)] for bar in pitches]
    song = progression_song(II_V_I, melody=melody)
    parts = {part.name: part for part in arrange(song, band="trio", swing=2, seed=seed)}
    for comp in parts["Piano"].sounds:
        sounding = [note.pitch for note in parts["Melody"].sounds
                    if note.start < comp.end and note.end > comp.start]
        assert all(comp.pitch < pitch for pitch in sounding)
