"""Generation: one token at a time, carrying (h, c) from step to step.

    state <- zeros; prime the model: run the primer through it (sets h and c)
    repeat length times:
        p = softmax(logits / temperature), restricted to the top_k logits
        next = argmax(p) if temperature == 0 else a draw from p
        feed next back in

Kept mass (``keep``, optional): a set K of tokens whose untempered
probability is kept.  Over the candidates C (after any allowed mask and
top_k), with K' = K & C:

    p1    = softmax(logits) over C                 (temperature 1)
    mass  = sum over w in K' of p1(w)
    p(w)  = p1(w)                                    for w in K'
    p(w)  = (1 - mass) * softmax(logits / temperature) over C - K   otherwise

so the temperature reshapes only the other tokens, inside what K' leaves.
With no candidate in K (or keep None) p is the plain tempered softmax, to
the bit; at temperature 0 keep is ignored.

A draw uses one uniform number u per sequence and step, taken from the
Generator before the loop, and inverts the cumulative distribution
(the first token whose cumulative probability exceeds u * total).  So the
same seed gives the same tokens on any backend.

A model that hears features (``feature_size`` F > 0) gets a feature row
with every input: the primer's from ``primer_features``, each generated
token's from the caller (``step_features``).

``generate_segments`` samples under budgets: every token costs some units
(``token_costs``), the stream is cut into segments of fixed total cost
(``budgets``), and inside a segment only tokens that fit what is left may be
drawn; a reset token closes each segment.  (Music: tokens are notes with
durations, segments are bars; but nothing here knows that.)

With the Numba backend the whole loop, primer included, runs compiled
(``kernels.generate``, ``kernels.generate_segments``): at batch 1 a step is
a few small mat-vecs, and calling NumPy a dozen times per token costs more
than the arithmetic.  The NumPy loops below are the reference; both pick
the same tokens unless two candidates lie within a float rounding of each
other.
"""
from __future__ import annotations

import numpy as np

from lstm_np import kernels, layers
from lstm_np.model import log_softmax


def choose_tokens(logits, uniforms, temperature: float = 1.0, top_k: int = 0, allowed=None,
                  keep=None):
    """Pick one token per row.

    logits (B, V); uniforms (B,) in [0, 1); temperature 0 = greedy argmax,
    else the softmax of logits / temperature; top_k > 0 keeps only the k
    largest logits (ties broken towards the lower token id); allowed: None,
    or (B, V) booleans, at least one True per row: the other tokens are
    never picked, the softmax is renormalised over the allowed ones and
    top_k counts among them.  keep: None, or (V,) or (B, V) booleans, the
    tokens whose untempered probability is kept (the module docstring's
    kept mass); a row with no kept candidate is drawn exactly as without.
    Returns token ids (B,).
    """
    logits = np.asarray(logits, dtype=np.float64)
    _check_sampling(temperature, top_k)
    if allowed is not None:
        logits = np.where(allowed, logits, -np.inf)
    if temperature == 0:
        return logits.argmax(axis=1)
    scaled = logits / temperature
    if 0 < top_k < logits.shape[1]:
        order = np.argsort(-scaled, axis=1, kind="stable")
        dropped = order[:, top_k:]
        np.put_along_axis(scaled, dropped, -np.inf, axis=1)
    probabilities = np.exp(log_softmax(scaled))
    if keep is not None:
        probabilities = _kept_mass(logits, scaled, probabilities, keep)
    cumulative = np.cumsum(probabilities, axis=1)
    thresholds = uniforms * cumulative[:, -1]
    picks = (cumulative <= thresholds[:, None]).sum(axis=1)
    # Rounding can leave u * total equal to the last cumulative value; the
    # pick then falls to the last token that has any probability at all.
    last_possible = logits.shape[1] - 1 - (probabilities[:, ::-1] > 0).argmax(axis=1)
    return np.minimum(picks, last_possible)


def _kept_mass(logits, scaled, probabilities, keep):
    """The probabilities (B, V) with the kept candidates' untempered mass kept;
    rows without a kept candidate are returned unchanged (same bits)."""
    candidates = scaled > -np.inf
    kept = np.broadcast_to(np.asarray(keep, dtype=bool), logits.shape) & candidates
    rows = kept.any(axis=1)
    if not rows.any():
        return probabilities
    others = candidates & ~kept
    with np.errstate(invalid="ignore"):
        untempered = np.exp(log_softmax(np.where(candidates, logits, -np.inf)[rows]))
        tempered = np.exp(log_softmax(np.where(others, scaled, -np.inf)[rows]))
    kept_rows = kept[rows]
    # Summed in token order, as the compiled twin sums.
    mass = np.cumsum(np.where(kept_rows, untempered, 0.0), axis=1)[:, -1]
    rest = np.where(others[rows], (1.0 - mass)[:, None] * tempered, 0.0)
    probabilities = probabilities.copy()
    probabilities[rows] = np.where(kept_rows, untempered, rest)
    return probabilities


def _check_sampling(temperature: float, top_k: int):
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")


def generate(model, primer, length: int, rng: np.random.Generator,
             temperature: float = 1.0, top_k: int = 0, primer_features=None,
             step_features=None, keep=None):
    """Continue each primer sequence by ``length`` tokens.

    model: a ``SequenceModel``; primer (B, P) token ids, P >= 1 (B sequences
    generated at once); rng: the Generator for the draws.  For a model with
    feature_size F > 0: primer_features (B, P, F), and step_features
    (B, length, F) whose row k is heard with generated token k when it is
    fed back (the last row is never fed: generation stops there).  keep:
    None, or (V,) booleans, the tokens whose untempered probability is kept
    (``choose_tokens``).
    Returns the generated ids (B, length), primer excluded.
    """
    primer = _check_primer(model, primer)
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    _check_sampling(temperature, top_k)
    batch = primer.shape[0]
    primer_features = model.checked_features("primer_features", primer_features, primer.shape)
    step_features = model.checked_features("step_features", step_features, (batch, length))
    keep = _check_keep(model, keep)
    uniforms = rng.random((length, batch))
    if kernels.resolve_backend(model.backend) == "numba":
        return kernels.generate(model.params, layers.head_without_batch_norm(model),
                                model.config.num_layers, primer, uniforms, temperature, top_k,
                                primer_features, step_features, keep)
    state, current, current_features = _prime(model, primer, primer_features)
    generated = np.empty((batch, length), dtype=np.int64)
    for step in range(length):
        logits, state, _ = model.forward(current, state, all_steps=False,
                                         features=current_features)
        tokens = choose_tokens(logits, uniforms[step], temperature, top_k, keep=keep)
        generated[:, step] = tokens
        current = tokens[:, None]
        current_features = None if step_features is None else step_features[:, step:step + 1]
    return generated


def generate_segments(model, primer, rng: np.random.Generator, *, token_costs, budgets,
                      reset_token: int, step_features=None, primer_features=None,
                      temperature: float = 1.0, top_k: int = 0, feature_hook=None, keep=None):
    """Sample one sequence segment by segment, never overflowing a segment's budget.

    token_costs (V,) integers >= 0: what each token uses of a budget;
    budgets (S,) integers >= 1, one per segment; reset_token: a token of
    cost 0 that closes a segment.  Segment s starts with budgets[s] units;
    with r > 0 units left only tokens of cost 1..r may be drawn (the
    temperature, top_k and softmax apply among those), so zero-cost tokens,
    the reset token included, are never drawn (keep: None, or (V,) booleans,
    the tokens whose untempered probability is kept among the tokens that
    fit, ``choose_tokens``); when r reaches 0 the reset
    token is emitted without a draw and segment s + 1 begins.  Generation
    ends after the reset that closes the last segment.  One uniform is
    drawn per sampled token: rng.random(sum(budgets)) up front, a bound no
    run exceeds, so the same seed gives the same ids on every backend.

    primer (1, P) ids, P >= 1.  For a model with feature_size F > 0:
    primer_features (1, P, F), and step_features (S, max(budgets) + 1, F):
    a token that leaves segment s with u units used is fed back with the
    row step_features[s, u]; the reset closing segment s is fed with
    step_features[s + 1, 0].

    feature_hook: None, or a callable (token, row) -> row called with every
    token fed back after the primer (the resets included), in order, and
    the step_features row it would be fed with; the row it returns (F,) is
    fed instead (it must not change the row it is given).  Features that
    depend on the tokens drawn so far come in this way.  With a hook the
    NumPy loop below runs on every backend (the compiled loop calls no
    Python).

    Returns the ids (N,): [segment 0's tokens..., reset, segment 1's
    tokens..., reset, ...], primer excluded.  Raises ValueError when no
    token fits what is left of a budget (give every budget unit-cost fillers).
    """
    primer = _check_primer(model, primer)
    if primer.shape[0] != 1:
        raise ValueError(f"generate_segments samples one sequence: primer must be (1, P), "
                         f"got shape {primer.shape}")
    _check_sampling(temperature, top_k)
    keep = _check_keep(model, keep)
    token_costs, budgets = _check_budgets(model, token_costs, budgets, reset_token)
    primer_features = model.checked_features("primer_features", primer_features, primer.shape)
    step_features = model.checked_features("step_features", step_features,
                                           (len(budgets), int(budgets.max()) + 1))
    if feature_hook is not None and step_features is None:
        raise ValueError("feature_hook changes feature rows; the model has none")
    uniforms = rng.random(int(budgets.sum()))
    if feature_hook is None and kernels.resolve_backend(model.backend) == "numba":
        ids, failure = kernels.generate_segments(
            model.params, layers.head_without_batch_norm(model), model.config.num_layers, primer[0],
            uniforms, temperature, top_k, token_costs, budgets, reset_token,
            None if primer_features is None else primer_features[0], step_features, keep)
        if failure is not None:
            _raise_no_token_fits(*failure, budgets)
        return ids
    state, current, current_features = _prime(model, primer, primer_features)
    generated, draws = [], 0
    for segment, budget in enumerate(budgets):
        used = 0
        while used < budget:
            logits, state, _ = model.forward(current, state, all_steps=False,
                                             features=current_features)
            allowed = (token_costs > 0) & (token_costs <= budget - used)
            if not allowed.any():
                _raise_no_token_fits(segment, budget - used, budgets)
            token = choose_tokens(logits, uniforms[draws:draws + 1], temperature, top_k,
                                  allowed[None], keep)[0]
            draws += 1
            used += token_costs[token]
            generated.append(token)
            current, current_features = np.array([[token]]), _feature_row(
                step_features, segment, used, token, feature_hook)
        generated.append(reset_token)
        if segment + 1 < len(budgets):
            # The model hears the segment's last token, then the forced reset.
            _, state, _ = model.forward(current, state, all_steps=False,
                                        features=current_features)
            current, current_features = np.array([[reset_token]]), _feature_row(
                step_features, segment + 1, 0, reset_token, feature_hook)
    return np.array(generated, dtype=np.int64)


def _feature_row(step_features, segment: int, used: int, token: int, feature_hook=None):
    """step_features[segment, used] (through the hook, with the token it goes
    with) as a (1, 1, F) batch, or None without features."""
    if step_features is None:
        return None
    if feature_hook is None:
        return step_features[None, None, segment, used]
    row = np.asarray(feature_hook(int(token), step_features[segment, used]),
                     dtype=step_features.dtype)
    if row.shape != step_features.shape[2:]:
        raise ValueError(f"feature_hook returned a row of shape {row.shape}, "
                         f"not {step_features.shape[2:]}")
    return row[None, None]


def _raise_no_token_fits(segment: int, remaining: int, budgets):
    raise ValueError(f"segment {segment}: no token costs between 1 and the {remaining} "
                     f"units left of its budget of {budgets[segment]}")


def _prime(model, primer, primer_features):
    """Prime the model: run all but the primer's last token; return the state and the
    first input to feed."""
    state = model.initial_state(primer.shape[0])
    if primer.shape[1] > 1:
        _, state, _ = model.forward(
            primer[:, :-1], state, all_steps=False,
            features=None if primer_features is None else primer_features[:, :-1])
    last_features = None if primer_features is None else primer_features[:, -1:]
    return state, primer[:, -1:], last_features


def _check_primer(model, primer):
    primer = np.asarray(primer)
    if primer.ndim != 2 or primer.shape[1] < 1:
        raise ValueError(f"primer must be (batch, P) token ids with P >= 1, got shape {primer.shape}")
    if primer.dtype.kind not in "iu" or primer.min() < 0 or primer.max() >= model.config.vocab_size:
        raise ValueError(f"primer must hold token ids in [0, {model.config.vocab_size})")
    return primer


def _check_keep(model, keep):
    """keep as (V,) booleans, or None."""
    if keep is None:
        return None
    keep = np.asarray(keep)
    if keep.shape != (model.config.vocab_size,) or keep.dtype != np.bool_:
        raise ValueError(f"keep must be {model.config.vocab_size} booleans (one per token), "
                         f"got {keep.dtype} {keep.shape}")
    return keep


def _check_budgets(model, token_costs, budgets, reset_token):
    """token_costs (V,) and budgets (S,) as int64 arrays, checked with the reset token."""
    vocab_size = model.config.vocab_size
    token_costs, budgets = np.asarray(token_costs), np.asarray(budgets)
    if token_costs.shape != (vocab_size,) or token_costs.dtype.kind not in "iu" \
            or token_costs.min() < 0:
        raise ValueError(f"token_costs must be {vocab_size} integers >= 0 (one per token), "
                         f"got {token_costs.dtype} {token_costs.shape}")
    if budgets.ndim != 1 or len(budgets) == 0 or budgets.dtype.kind not in "iu" \
            or budgets.min() < 1:
        raise ValueError(f"budgets must be a non-empty list of integers >= 1, got {budgets!r}")
    if isinstance(reset_token, bool) or not isinstance(reset_token, (int, np.integer)) \
            or not 0 <= reset_token < vocab_size:
        raise ValueError(f"reset_token must be a token id in [0, {vocab_size}), "
                         f"got {reset_token!r}")
    if token_costs[reset_token] != 0:
        raise ValueError(f"reset_token {reset_token} must cost 0, "
                         f"it costs {token_costs[reset_token]}")
    return token_costs.astype(np.int64), budgets.astype(np.int64)
