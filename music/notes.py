"""Note and chord tokens over many files: the LoFi generator's data, cached.

``encode_score_tokens`` reads one file with music21 and returns its tokens
(format and timing rules in ``music.note_tokens``).  Every pitched part is
read, drum parts (unpitched notes) and chord symbols are not; tied notes
are joined; then the notes of all parts go on one timeline and notes struck
at the same onset are grouped into one token.  That grouping replaces
music21's ``chordify``, which is slower and splits held notes into tied
pieces.  An ABC file of several tunes gives the tunes' tokens one after
another.

``load_note_corpus`` does this for files, folders and ``music21:`` names
(as ``music.reading.load_songs`` takes them), with

* a progress bar on a terminal, plain "parsing ..." lines otherwise
  (stderr);
* a cache: each file's tokens are stored as JSON in
  ``<cache_dir>/notes-v<ENCODING_VERSION>/<sha256 of the file's bytes>.json``,
  written atomically, so an unchanged file is never parsed twice, whatever
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

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from music.midi_out import write_bytes_atomically
from music.note_tokens import events_to_tokens
from music.reading import CORPUS_PREFIX, expand_source
from music.song import MusicError, as_fraction

ENCODING_VERSION = 1
CACHE_ENV = "JAZZ_LSTM_CACHE"
# Piano pieces from music21's own corpus, so the default needs no download.
# 8 files, 2,963 tokens, 630 distinct (ENCODING_VERSION 1).
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


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "jazz-lstm")


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
    ``music.reading.load_songs``), through the cache; see the module doc.

    cache_dir: folder of the cache (None: ``default_cache_dir()``).
    progress:  show parsing progress on stderr.
    Raises MusicError for a missing path, a folder with no music files, or
    when no file at all could be read.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    files = [entry for source in sources for entry in expand_source(source)]
    cache = _Cache(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    bar = _progress_bar(len(files)) if progress else None
    read, token_lists, skipped, parsed = [], [], [], 0
    for number, (label, parse) in enumerate(files, start=1):
        try:
            key = _content_key(label)
            tokens = cache.get(key)
            if tokens is None:
                if progress and bar is None:
                    print(f"[{number}/{len(files)}] parsing {label}", file=sys.stderr, flush=True)
                tokens = _tokens_of(label, parse)
                parsed += 1
                cache.put(key, tokens, _report(bar))
        except MusicError as error:
            reason = str(error).splitlines()[0]
            skipped.append((label, reason))
            _report(bar)(f"warning: skipping {reason}")
        else:
            read.append(label)
            token_lists.append(tuple(tokens))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    if not read:
        raise MusicError(f"none of the {len(files)} music file(s) could be read; "
                         f"first: {skipped[0][1]}")
    return NoteCorpus(files=tuple(read), token_lists=tuple(token_lists),
                      skipped=tuple(skipped), parsed=parsed)


# ------------------------------------------------------------ one file

def _tokens_of(label, parse) -> list:
    parsed = parse()
    try:
        scores = list(parsed.scores) if "Opus" in parsed.classes else [parsed]
        tokens = [token for score in scores for token in events_to_tokens(_score_notes(score))]
    except Exception as error:  # a music21 object that does not behave as expected
        raise MusicError(f"{label}: cannot read its notes ({type(error).__name__}: "
                         f"{' '.join(str(error).split())[:160]})") from None
    if not tokens:
        raise MusicError(f"{label}: no pitched notes")
    return tokens


def _score_notes(score) -> list:
    """(start, end, MIDI pitch) in quarter lengths of every pitched note of a
    music21 score, tied notes joined."""
    notes = []
    for part in list(score.parts) or [score]:
        held = {}  # pitch -> index in notes of the note a tie continues
        for element in part.flatten().notes:
            classes = element.classes
            if "Unpitched" in classes or "PercussionChord" in classes or "Harmony" in classes:
                continue
            duration = as_fraction(element.duration.quarterLength)
            if duration <= 0:
                continue  # grace notes take no time
            start = as_fraction(element.offset)
            for component in element.notes if "Chord" in classes else (element,):
                pitch = component.pitch.midi
                if not 0 <= pitch <= 127:
                    continue
                tie = component.tie or element.tie
                tie_type = tie.type if tie is not None else None
                if tie_type in ("stop", "continue") and pitch in held:
                    index = held[pitch]
                    notes[index] = (notes[index][0], start + duration, pitch)
                    if tie_type == "stop":
                        del held[pitch]
                    continue
                notes.append((start, start + duration, pitch))
                if tie_type in ("start", "continue"):
                    held[pitch] = len(notes) - 1
                else:
                    held.pop(pitch, None)
    return notes


def _content_key(label: str) -> str:
    """sha256 of the file's bytes, hex."""
    if label.startswith(CORPUS_PREFIX):
        import music21
        try:
            path = music21.corpus.getWork(label[len(CORPUS_PREFIX):])
        except Exception as error:  # music21 raises CorpusException, or others on odd names
            raise MusicError(f"{label}: not found in music21's corpus "
                             f"({type(error).__name__})") from None
        path = path[0] if isinstance(path, list) else path
    else:
        path = label
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as error:
        raise MusicError(f"{label}: cannot be read ({error.strerror or error})") from None


# ----------------------------------------------------- cache, progress

class _Cache:
    """Token lists as JSON files named by content key, in a versioned folder."""

    def __init__(self, root: Path):
        self.folder = root / f"notes-v{ENCODING_VERSION}"
        self.broken = False

    def get(self, key: str):
        try:
            tokens = json.loads((self.folder / f"{key}.json").read_text("utf-8"))["tokens"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
            return None
        return tokens

    def put(self, key: str, tokens, report) -> None:
        if self.broken:
            return
        data = json.dumps({"encoding_version": ENCODING_VERSION, "tokens": list(tokens)})
        try:
            write_bytes_atomically(self.folder / f"{key}.json", data.encode("utf-8"))
        except OSError as error:
            self.broken = True
            report(f"warning: cannot write the token cache in {self.folder} "
                   f"({error.strerror or error}); files will be parsed again next time")


def _progress_bar(total: int):
    """A tqdm bar over the files on a terminal, else None (plain lines)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="file", desc="reading", dynamic_ncols=True)


def _report(bar):
    """A function printing one line to stderr without breaking the bar."""
    if bar is None:
        return lambda line: print(line, file=sys.stderr, flush=True)
    return lambda line: bar.write(line, file=sys.stderr)
