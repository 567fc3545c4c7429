"""Note and chord tokens over many files: the LoFi generator's data, cached.

``encode_score_tokens`` reads one file (``music.read.scores.read_plain_scores``:
mido for MIDI files, music21 for the rest) and returns its tokens (format
and timing rules in ``music.tokens.note_tokens``).  Every pitched part is read,
drum parts (unpitched notes) and chord symbols are not; tied notes are
joined; then the notes of all parts go on one timeline and notes struck at
the same onset are grouped into one token.  That grouping replaces
music21's ``chordify``, which is slower and splits held notes into tied
pieces.  An ABC file of several tunes gives the tunes' tokens one after
another.

``load_note_corpus`` does this for files, folders and ``music21:`` names
(as ``music.read.scores.load_songs`` takes them), with

* several files parsed by a pool of worker processes
  (``music.read.parallel.read_in_parallel``), a progress bar on a terminal,
  plain "parsing ..." lines otherwise (stderr);
* a cache (``music.read.cache``): each file's tokens are stored as JSON in
  ``<cache_dir>/notes-v<ENCODING_VERSION>/<key>.json``, the key being the
  sha256 of the file's bytes (of the name and music21's version for a
  ``music21:`` name), so an unchanged file is never parsed twice, whatever
  its name or place.  ``ENCODING_VERSION`` changes whenever the tokens of a
  file would change, which leaves old entries unused.  The cache folder is
  ``cache_dir``, else ``$JAZZ_LSTM_CACHE``, else ``~/.cache/jazz-lstm``;
  a damaged entry is parsed again; a cache that cannot be written is
  reported once and the run goes on;
* skipping: a file that cannot be read or holds no pitched notes is
  reported on stderr ("warning: skipping <file>: ...") and left out; the
  corpus lists it in ``skipped``.  Only when every file fails is a
  MusicError raised.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from music.read.cache import CACHE_ENV, TokenCache, content_key, default_cache_dir, file_bytes
from music.read.parallel import read_in_parallel
from music.read.scores import (CORPUS_PREFIX, MAX_FILE_BYTES, expand_source,
                               read_plain_scores)
from music.song import MusicError
from music.tokens.note_tokens import events_to_tokens

# 2: MIDI files read by music.read.midi; ties joined only where the notes meet.
ENCODING_VERSION = 2
# Piano pieces from music21's own corpus, so the default needs no download.
# 8 files, 2,963 tokens, 630 distinct (ENCODING_VERSION 1 and 2).
DEFAULT_NOTE_SOURCES = (
    "music21:joplin/maple_leaf_rag.mxl",
    "music21:schumann_clara/polonaise_op1n1.mxl",
    "music21:schumann_clara/polonaise_op1n2.mxl",
    "music21:schumann_clara/polonaise_op1n3.mxl",
    "music21:schumann_clara/polonaise_op1n4.mxl",
    "music21:mozart/k545/movement1_exposition.mxl",
    "music21:chopin/mazurka06-2.krn",
    "music21:cpebach/h186.mxl",
)
__all__ = ["CACHE_ENV", "DEFAULT_NOTE_SOURCES", "ENCODING_VERSION", "NoteCorpus",
           "default_cache_dir", "encode_score_tokens", "load_note_corpus"]


@dataclass(frozen=True)
class NoteCorpus:
    """The tokens of every file that could be read.

    files:       labels (paths or ``music21:`` names) of the files read, in order
    token_lists: one tuple of tokens per file, aligned with ``files``
    skipped:     (label, one-line reason) per file left out
    parsed:      how many files were parsed this time (the rest came from the cache)
    """

    files: tuple
    token_lists: tuple
    skipped: tuple
    parsed: int

    @property
    def tokens(self) -> list:
        """All files' tokens, one after another (windows may span two files)."""
        return [token for tokens in self.token_lists for token in tokens]


def encode_score_tokens(source) -> list:
    """The tokens of one music file (a path or a ``music21:`` name), uncached.

    Raises MusicError when the source is not exactly one readable file with
    pitched notes.
    """
    files = expand_source(source)
    if len(files) != 1:
        raise MusicError(f"{source}: holds {len(files)} music files, not one; "
                         "use load_note_corpus")
    label, parse = files[0]
    return _tokens_of(label, parse)


def load_note_corpus(sources, *, cache_dir=None, progress: bool = True) -> NoteCorpus:
    """Tokens of every file of ``sources`` (one source or a list, as for
    ``music.read.scores.load_songs``), through the cache; see the module doc.

    cache_dir: folder of the cache (None: ``default_cache_dir()``).
    progress:  show parsing progress on stderr.
    Raises MusicError for a missing path, a folder with no music files, or
    when no file at all could be read.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    labels = [label for source in sources for label, _ in expand_source(source)]
    cache = TokenCache((Path(cache_dir) if cache_dir is not None else default_cache_dir())
                       / f"notes-v{ENCODING_VERSION}",
                       encode=_encode_tokens, decode=_decode_tokens, suffix=".json")
    report = _reporter(progress)
    outcomes = [None] * len(labels)   # (tokens, None) or (None, reason)
    keys = [None] * len(labels)
    for number, label in enumerate(labels):
        try:
            keys[number] = content_key(
                label, None if label.startswith(CORPUS_PREFIX) else file_bytes(label, MAX_FILE_BYTES))
        except MusicError as error:
            outcomes[number] = (None, str(error).splitlines()[0])
            continue
        tokens = cache.get(keys[number])
        if tokens is not None:
            outcomes[number] = (tokens, None)
    missing = [number for number, outcome in enumerate(outcomes) if outcome is None]
    if progress and not sys.stderr.isatty():
        for number in missing:
            print(f"[{number + 1}/{len(labels)}] parsing {labels[number]}",
                  file=sys.stderr, flush=True)
    parsed = read_in_parallel(_tokens_or_reason, [(labels[number],) for number in missing],
                              progress=progress)
    for number, outcome in zip(missing, parsed):
        outcomes[number] = outcome
        if outcome[0] is not None:
            cache.put(keys[number], outcome[0], report)
    parsed_count = sum(1 for tokens, _ in parsed if tokens is not None)
    read, token_lists, skipped = [], [], []
    for label, (tokens, reason) in zip(labels, outcomes):
        if reason is not None:
            skipped.append((label, reason))
            report(f"warning: skipping {reason}")
        else:
            read.append(label)
            token_lists.append(tuple(tokens))
    if not read:
        raise MusicError(f"none of the {len(labels)} music file(s) could be read; "
                         f"first: {skipped[0][1]}")
    return NoteCorpus(files=tuple(read), token_lists=tuple(token_lists),
                      skipped=tuple(skipped), parsed=parsed_count)


# ------------------------------------------------------------ one file

def _tokens_or_reason(label) -> tuple:
    """(tokens, None) for a file, or (None, one-line reason); runs in a worker."""
    try:
        return _tokens_of(label, lambda: read_plain_scores(label)), None
    except MusicError as error:
        return None, str(error).splitlines()[0]


def _tokens_of(label, read) -> list:
    """The tokens of the tunes ``read()`` returns (PlainScores), one tune
    after another."""
    tokens = [token for score in read()
              for token in events_to_tokens([(note.start, note.end, note.pitch)
                                             for part in score.parts for note in part.notes])]
    if not tokens:
        raise MusicError(f"{label}: no pitched notes")
    return tokens


def _encode_tokens(tokens) -> bytes:
    return json.dumps({"encoding_version": ENCODING_VERSION,
                       "tokens": list(tokens)}).encode("utf-8")


def _decode_tokens(data: bytes) -> list:
    tokens = json.loads(data.decode("utf-8"))["tokens"]
    if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
        raise ValueError("not a token list")
    return tokens


def _reporter(progress: bool):
    """A function printing one line to stderr without breaking a tqdm bar."""
    if progress and sys.stderr.isatty():
        return lambda line: tqdm.write(line, file=sys.stderr)
    return lambda line: print(line, file=sys.stderr, flush=True)
