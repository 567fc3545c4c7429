"""music21, imported on first use: the one place that imports it.

Reading a music file (``music.read.scores``), naming a MIDI track's
instrument (``music.read.midi``) and writing a lead sheet
(``music.write.musicxml``) need music21; a read from the cache, the tokens,
the band and MIDI or WAV output never do.
"""


def load_music21():
    """The music21 package."""
    # music21 costs 0.25 s of start-up (python -X importtime, median of 5, NumPy already
    # loaded); a cached read must not pay it (tests/test_reading.py checks).
    import music21

    return music21
