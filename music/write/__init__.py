"""Writing: a Song (and its band's Parts) out as MIDI, WAV and MusicXML, through the
safe file writer ``music.files``.
"""
