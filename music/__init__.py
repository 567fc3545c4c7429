"""music: files in, a plain Song out; tokens; the band; MIDI, WAV and MusicXML out.

This package knows nothing about neural networks.  It is grouped by what
each part does; a group imports only the core and itself:

* core (this folder): ``song`` (the value classes), ``chords``,
  ``progressions``, ``metre``, ``grid``, ``performance`` (the band's
  Sounds and Parts), ``files`` (the safe file writer) and ``m21`` (music21,
  imported on first use);
* ``read``: MIDI, MusicXML and WJazzD files to Songs, the reading cache, and the
  worker pool that reads many files at once (``parallel``);
* ``tokens``: Songs to grammar tokens and back, features, pruning, vocabulary;
* ``band``: a Song arranged for piano, bass and drums;
* ``write``: MIDI, WAV and MusicXML out.

music21 is used only where files are read and chord symbols parsed;
everything else is plain Python and NumPy.
"""
from music.song import Chord, Measure, MusicError, Note, Song

__all__ = ["Chord", "Measure", "MusicError", "Note", "Song"]
