"""The band: a Song arranged for piano, bass and drums (comping, voicings, a walking
bass, ride and hi-hat), swung and shaded, as Parts of Sounds (``music.performance``).
"""
