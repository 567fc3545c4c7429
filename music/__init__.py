"""music: files in, a plain Song out; grammar tokens; pruning; MIDI and WAV out.

This package knows nothing about neural networks.  music21 is used only
where files are read and chord symbols parsed; everything else is plain
Python and NumPy.
"""
from music.song import Chord, Measure, MusicError, Note, Song

__all__ = ["Chord", "Measure", "MusicError", "Note", "Song"]
