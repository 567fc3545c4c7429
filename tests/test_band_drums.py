"""music.band.drums: ride and hi-hat patterns on channel ten, in any metre."""

import pytest

from music.write.midi import song_to_midi_bytes
from tests.band_helpers import MAJOR7, progression_song, track_notes, tracks_by_name


def test_drums_play_on_channel_ten_ride_and_hi_hat_on_two_and_four():
    song = progression_song([[(0, MAJOR7)]])
    notes = track_notes(tracks_by_name(song_to_midi_bytes(song, band="trio"))["Drums"])
    assert {channel for *_, channel in notes} == {9}
    ride = [start for start, _, pitch, *_ in notes if pitch == 51]
    hi_hat = [start for start, _, pitch, *_ in notes if pitch == 44]
    assert ride == [0, 480, 720, 960, 1440, 1680]     # ding, ding-da, ding, ding-da
    assert hi_hat == [480, 1440]


@pytest.mark.parametrize("signature, ride, hi_hat", [
    ((3, 4), [0, 480, 960, 1200], [480, 960]),              # 1, 2, 3-da; hat on 2 and 3
    ((5, 4), [0, 480, 960, 1200, 1440, 1920, 2160], [480, 960, 1920]),   # 3 + 2
    ((6, 8), [0, 720, 1200], [720]),                         # two dotted beats, "da" on the last eighth
])
def test_drums_follow_the_metre(signature, ride, hi_hat):
    song = progression_song([[(0, MAJOR7)]], signature)
    notes = track_notes(tracks_by_name(song_to_midi_bytes(song, band="trio"))["Drums"])
    assert [start for start, _, pitch, *_ in notes if pitch == 51] == ride
    assert [start for start, _, pitch, *_ in notes if pitch == 44] == hi_hat
