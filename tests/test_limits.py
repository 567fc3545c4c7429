"""jazz_lstm.limits: the time signatures a solo can be written in, and values quoted
short in error messages."""
import pytest

from jazz_lstm.limits import shown, time_signature_problem


@pytest.mark.parametrize("signature, problem", [
    ((4, 4), None), ((7, 8), None), ((5, 16), None), ((2, 32), None), ([3, 4], None),
    # 3/32 is a bar of 3/8 quarter: four and a half steps of the 1/12-quarter grid
    ((3, 32), "does not fill whole steps"),
    ((1, 32), "a bar of 1/8 quarter"),
    ((33, 4), "beats 1..32"), ((3, 5), "beats 1..32 over one of"),
    ("3/4", "two whole numbers such as (3, 4), got '3/4'"),
    ((True, 4), "two whole numbers"), ((3.0, 4), "two whole numbers"), ((3, 4, 4), "two whole"),
])
def test_time_signatures_a_solo_can_be_written_in(signature, problem):
    found = time_signature_problem(signature)
    assert found is None if problem is None else problem in found


def test_a_value_is_quoted_by_its_repr_cut_at_40_characters():
    assert shown("3/4") == "'3/4'"
    assert shown(None) == "None"
    assert shown("x" * 38) == "'" + "x" * 38 + "'"                 # 40 characters: kept
    assert shown("x" * 39) == "'" + "x" * 36 + "..."                 # 41: cut to 37 and ...
    assert len(shown(list(range(1000)))) == 40
