"""music.performance: a Part refuses a bad sound or voice."""
from fractions import Fraction as F

import pytest

from music.performance import Part, Sound
from music.song import MusicError


def test_a_part_refuses_a_bad_sound_or_voice():
    with pytest.raises(MusicError, match="Bass: bad sound"):
        Part("Bass", 2, 32, "bass", [Sound(F(1), F(1), 40, 80)])
    with pytest.raises(MusicError, match="voice"):
        Part("Horn", 3, 66, "trumpet")
