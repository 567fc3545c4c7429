"""Run the jazz-lstm command line from a checkout: ``python cli.py train|sample|corpus ...``.

The command line itself is ``jazz_lstm.cli`` (installed as the ``jazz-lstm``
command); this file only lets a checkout run it without installing.
"""
import sys

from jazz_lstm.cli import main

if __name__ == "__main__":
    sys.exit(main())
