"""Reading: music files (MIDI, MusicXML, WJazzD exports) in, plain Songs out.

music21 and mido are used only here, at the edge; ``cache`` keeps what was read.
"""
