"""An optimizer's state in and out of checkpoints, as one flat dict of arrays::

    "iterations"       0-d int64: the updates done
    "<slot>/<name>"    the slot's array for parameter <name> ("m/lstm0.W", "v/out.b", "a/...")

Loading checks everything before it changes anything: unknown entries,
slots that disagree on names or shapes, state that does not fit the state
the optimizer already has.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lstm_np.optim import Optimizer, require_same_shapes


def state_dict(optimizer: Optimizer) -> dict:
    """A flat copy of ``optimizer``'s state."""
    state = {"iterations": np.array(optimizer.iterations, dtype=np.int64)}
    for slot, arrays in optimizer.slots.items():
        for name, array in arrays.items():
            state[f"{slot}/{name}"] = array.copy()
    return state


def load_state_dict(optimizer: Optimizer, state: Mapping[str, np.ndarray]) -> None:
    """Give ``optimizer`` a copy of ``state`` (as ``state_dict`` makes it); ValueError,
    leaving the optimizer unchanged, when it does not fit."""
    iterations = _read_iterations(state)
    slots: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in optimizer.SLOTS}
    for key, array in state.items():
        if key == "iterations":
            continue
        slot, _, name = key.partition("/")
        if slot not in slots or not name:
            pattern = ", ".join(f"'{slot}/<name>'" for slot in optimizer.SLOTS)
            raise ValueError(f"unknown optimizer state entry {key!r}; {type(optimizer).__name__} "
                             f"expects 'iterations' and {pattern}")
        array = np.array(array, copy=True)
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"optimizer state {key!r} has dtype {array.dtype}, expected a float dtype")
        slots[slot][name] = array
    first_slot = optimizer.SLOTS[0]
    loaded = {name: array.shape for name, array in slots[first_slot].items()}
    for slot in optimizer.SLOTS[1:]:
        if {name: array.shape for name, array in slots[slot].items()} != loaded:
            raise ValueError(f"optimizer state slots {first_slot!r} and {slot!r} disagree on "
                             "names or shapes")
    current = {name: array.shape for name, array in optimizer.slots[first_slot].items()}
    if current:
        require_same_shapes(current, loaded, "this optimizer's state", "the loaded state")
    optimizer.slots = slots
    optimizer.iterations = iterations


def _read_iterations(state: Mapping[str, np.ndarray]) -> int:
    if "iterations" not in state:
        raise ValueError("optimizer state has no 'iterations' entry")
    iterations = np.asarray(state["iterations"])
    if iterations.shape != () or not np.issubdtype(iterations.dtype, np.integer) or iterations < 0:
        raise ValueError("optimizer state 'iterations' must be a non-negative integer scalar, "
                         f"got {iterations!r}")
    return int(iterations)
