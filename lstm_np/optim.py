"""Optimisers that reproduce Keras 2's Adam and RMSprop, and global-norm clipping.

Parameters and gradients are dicts ``{name: np.ndarray}`` with the same keys
and shapes.  ``step`` updates the parameter arrays in place, because the model
holds references to them.  Optimiser state is kept in each parameter's dtype.

Learning-rate decay (both optimisers), with ``iterations`` the number of
updates already done (0 for the first update)::

    lr_decayed = lr / (1 + decay * iterations)

Adam (Keras 2 folds the bias correction into the step size; t = iterations + 1)::

    lr_t = lr_decayed * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m    = beta_1 * m + (1 - beta_1) * g
    v    = beta_2 * v + (1 - beta_2) * g**2
    p   -= lr_t * m / (sqrt(v) + epsilon)

RMSprop::

    a  = rho * a + (1 - rho) * g**2
    p -= lr_decayed * g / (sqrt(a) + epsilon)

Gradient clipping::

    norm = sqrt(sum over all arrays of sum(g**2))
    if norm > max_norm:  g *= max_norm / norm   (for every array)
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

Arrays = Mapping[str, np.ndarray]


class _Optimizer:
    """Shared bookkeeping: decay, iteration count, per-parameter state slots.

    Subclasses name their state slots in ``SLOTS`` and implement
    ``_step_size`` and ``_update``.
    """

    SLOTS: tuple[str, ...] = ()

    def __init__(self, lr: float, epsilon: float, decay: float):
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if epsilon < 0:
            raise ValueError(f"epsilon must be >= 0, got {epsilon}")
        if decay < 0:
            raise ValueError(f"decay must be >= 0, got {decay}")
        self.lr = float(lr)
        self.epsilon = float(epsilon)
        self.decay = float(decay)
        self.iterations = 0
        self._slots: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self.SLOTS}
        # One work buffer per parameter keeps each update free of temporaries.
        self._scratch: dict[str, np.ndarray] = {}

    def decayed_lr(self) -> float:
        """The learning rate the next update uses, before any bias correction."""
        return self.lr / (1.0 + self.decay * self.iterations)

    def step(self, params: Arrays, grads: Arrays) -> None:
        """Apply one update to every parameter, in place.

        params: {name: float array of any shape}, modified in place.
        grads:  {name: array of the same shape as params[name]}.
        """
        self._check_grads(params, grads)
        self._prepare_state(params)
        step_size = self._step_size()
        for name, param in params.items():
            scratch = self._scratch.get(name)
            if scratch is None:
                scratch = self._scratch[name] = np.empty_like(param)
            state = {slot: arrays[name] for slot, arrays in self._slots.items()}
            self._update(param, grads[name], state, scratch, step_size)
        self.iterations += 1

    def state_dict(self) -> dict[str, np.ndarray]:
        """A flat copy of the state: "iterations" (0-d int64) and "<slot>/<name>" arrays."""
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for slot, arrays in self._slots.items():
            for name, array in arrays.items():
                state[f"{slot}/{name}"] = array.copy()
        return state

    def load_state_dict(self, state: Arrays) -> None:
        """Replace the state with a copy of ``state`` (as made by ``state_dict``).

        state: {"iterations": 0-d integer array, "<slot>/<name>": float array}.
        Raises ValueError, leaving the optimiser unchanged, when entries are
        missing or unknown, when the slots disagree on names or shapes, or when
        the names or shapes differ from the state this optimiser already has.
        """
        iterations = _read_iterations(state)
        slots: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self.SLOTS}
        for key, array in state.items():
            if key == "iterations":
                continue
            slot, _, name = key.partition("/")
            if slot not in slots or not name:
                raise ValueError(
                    f"unknown optimizer state entry {key!r}; "
                    f"{type(self).__name__} expects 'iterations' and {self._slot_pattern()}")
            array = np.array(array, copy=True)
            if not np.issubdtype(array.dtype, np.floating):
                raise ValueError(f"optimizer state {key!r} has dtype {array.dtype}, expected a float dtype")
            slots[slot][name] = array

        reference_slot = self.SLOTS[0]
        reference = {name: array.shape for name, array in slots[reference_slot].items()}
        for slot in self.SLOTS[1:]:
            shapes = {name: array.shape for name, array in slots[slot].items()}
            if shapes != reference:
                raise ValueError(
                    f"optimizer state slots {reference_slot!r} and {slot!r} disagree on names or shapes")
        current = {name: array.shape for name, array in self._slots[reference_slot].items()}
        if current:
            _require_same_shapes(current, reference, "this optimizer's state", "the loaded state")

        self._slots = slots
        self._scratch = {}
        self.iterations = iterations

    def _slot_pattern(self) -> str:
        return ", ".join(f"'{slot}/<name>'" for slot in self.SLOTS)

    def _prepare_state(self, params: Arrays) -> None:
        """Create zero state on the first step; afterwards insist the parameters still match it."""
        first_slot = self._slots[self.SLOTS[0]]
        if not first_slot:
            for name, param in params.items():
                if not np.issubdtype(param.dtype, np.floating):
                    raise ValueError(f"parameter {name!r} has dtype {param.dtype}, expected a float dtype")
            for arrays in self._slots.values():
                arrays.update({name: np.zeros_like(param) for name, param in params.items()})
            return
        _require_same_shapes(
            {name: array.shape for name, array in first_slot.items()},
            {name: param.shape for name, param in params.items()},
            "the optimizer state", "the parameters")
        for name, param in params.items():
            if first_slot[name].dtype != param.dtype:
                raise ValueError(
                    f"parameter {name!r} has dtype {param.dtype} but its optimizer state has "
                    f"{first_slot[name].dtype}")

    @staticmethod
    def _check_grads(params: Arrays, grads: Arrays) -> None:
        _require_same_shapes(
            {name: param.shape for name, param in params.items()},
            {name: np.shape(grad) for name, grad in grads.items()},
            "the parameters", "the gradients")

    def _step_size(self) -> float:
        raise NotImplementedError

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray],
                scratch: np.ndarray, step_size: float) -> None:
        raise NotImplementedError


class Adam(_Optimizer):
    """Keras 2 Adam with learning-rate decay (formulas in the module docstring).

    The course's optimiser is ``Adam(lr=0.01, beta_1=0.9, beta_2=0.999, decay=0.01)``.
    State slots: "m" (first moment) and "v" (second moment), each shaped like its parameter.
    """

    SLOTS = ("m", "v")

    def __init__(self, lr: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, decay: float = 0.0):
        super().__init__(lr, epsilon, decay)
        for label, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{label} must be in [0, 1), got {beta}")
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)

    def _step_size(self) -> float:
        t = self.iterations + 1
        return self.decayed_lr() * math.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)

    def _update(self, param, grad, state, scratch, step_size):
        m, v = state["m"], state["v"]
        m *= self.beta_1
        np.multiply(grad, 1.0 - self.beta_1, out=scratch)
        m += scratch
        _mix_in_squares(v, grad, self.beta_2, scratch)
        _descend(param, m, v, self.epsilon, step_size, scratch)


class RMSprop(_Optimizer):
    """Keras 2 RMSprop with learning-rate decay (formulas in the module docstring).

    State slot: "a" (running mean of squared gradients), shaped like its parameter.
    """

    SLOTS = ("a",)

    def __init__(self, lr: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7,
                 decay: float = 0.0):
        super().__init__(lr, epsilon, decay)
        if not 0.0 <= rho < 1.0:
            raise ValueError(f"rho must be in [0, 1), got {rho}")
        self.rho = float(rho)

    def _step_size(self) -> float:
        return self.decayed_lr()

    def _update(self, param, grad, state, scratch, step_size):
        _mix_in_squares(state["a"], grad, self.rho, scratch)
        _descend(param, grad, state["a"], self.epsilon, step_size, scratch)


def _mix_in_squares(average, grad, keep, scratch) -> None:
    """average = keep * average + (1 - keep) * grad^2, in place (scratch: workspace)."""
    average *= keep
    np.square(grad, out=scratch)
    scratch *= 1.0 - keep
    average += scratch


def _descend(param, direction, squares, epsilon, step_size, scratch) -> None:
    """param -= step_size * direction / (sqrt(squares) + epsilon), in place."""
    np.sqrt(squares, out=scratch)
    scratch += epsilon
    np.divide(direction, scratch, out=scratch)
    scratch *= step_size
    param -= scratch


OPTIMIZERS = {"adam": Adam, "rmsprop": RMSprop}


def make_optimizer(name: str, **kwargs) -> Adam | RMSprop:
    """Build an optimiser by name ("adam" or "rmsprop", any case) with its keyword arguments."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(sorted(OPTIMIZERS))}") from None
    return cls(**kwargs)


def clip_by_global_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> float:
    """Scale every gradient in place so that their joint L2 norm is at most ``max_norm``.

    grads: {name: float array of any shape}, modified in place.
    Returns the joint norm before clipping.  A non-finite norm (inf or nan) is
    returned without touching the gradients, so the caller can skip the update
    instead of turning every gradient into zeros or nans.
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    # Accumulate in float64: squares of large float32 gradients would overflow,
    # and exploding gradients are exactly what clipping is for.
    squares = 0.0
    for grad in grads.values():
        flat = grad.astype(np.float64, copy=False).ravel()
        squares += float(np.dot(flat, flat))
    norm = math.sqrt(squares)
    if math.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        for grad in grads.values():
            grad *= scale
    return norm


def _read_iterations(state: Arrays) -> int:
    if "iterations" not in state:
        raise ValueError("optimizer state has no 'iterations' entry")
    iterations = np.asarray(state["iterations"])
    if iterations.shape != () or not np.issubdtype(iterations.dtype, np.integer) or iterations < 0:
        raise ValueError(
            f"optimizer state 'iterations' must be a non-negative integer scalar, got {iterations!r}")
    return int(iterations)


def _require_same_shapes(expected: dict[str, tuple], found: dict[str, tuple],
                         expected_label: str, found_label: str) -> None:
    """Raise ValueError naming the first difference in names or shapes."""
    missing = sorted(expected.keys() - found.keys())
    if missing:
        raise ValueError(f"{', '.join(missing)} missing from {found_label} (present in {expected_label})")
    extra = sorted(found.keys() - expected.keys())
    if extra:
        raise ValueError(f"{', '.join(extra)} present in {found_label} but not in {expected_label}")
    for name, shape in expected.items():
        if tuple(found[name]) != tuple(shape):
            raise ValueError(
                f"{name!r} has shape {tuple(found[name])} in {found_label} "
                f"but {tuple(shape)} in {expected_label}")
