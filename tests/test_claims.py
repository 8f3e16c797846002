"""memnb.claims: a claim is glued, checked and recorded in one call; a false one fails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from memnb.claims import ClaimError, Claims


def test_a_true_claim_is_recorded_with_its_values():
    claims = Claims()
    claims.check("capacity grows with d", 1.24 > 1, exponent=np.float64(1.24), dims=4)
    table = claims.table()
    assert list(table.columns) == ["claim", "measured", "checked"]
    assert table.loc[1, "claim"] == "capacity grows with d"
    assert table.loc[1, "measured"] == "exponent = 1.24, dims = 4"
    assert table.loc[1, "checked"] == "\u2714"
    assert claims.values == {"exponent": 1.24, "dims": 4}
    assert type(claims.values["exponent"]) is float  # numpy scalars are unwrapped


def test_a_false_claim_fails_and_names_its_values():
    claims = Claims()
    with pytest.raises(ClaimError, match=r"not borne out: slots beat matrices \(gap = -0\.25\)"):
        claims.check("slots beat matrices", -0.25 > 0, gap=-0.25)
    with pytest.raises(AssertionError):  # a failed claim fails the build like an assert
        claims.check("all recalled", np.array([True, False]))
    assert claims.checked == []  # nothing false is recorded


@pytest.mark.parametrize(
    "condition, holds",
    [
        (np.array([True, True]), True),
        (pd.Series([True, False]), False),
        (torch.tensor([True, True]), True),
        (np.bool_(False), False),
    ],
)
def test_array_conditions_hold_when_every_element_does(condition, holds):
    claims = Claims()
    if holds:
        claims.check("every element", condition)
        assert len(claims.table()) == 1
    else:
        with pytest.raises(ClaimError):
            claims.check("every element", condition)


def test_an_empty_or_numeric_condition_is_refused():
    with pytest.raises(ValueError, match="empty"):
        Claims().check("nothing", np.array([], dtype=bool))
    with pytest.raises(TypeError, match="boolean"):
        Claims().check("numbers", np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="non-empty sentence"):
        Claims().check("  ", True)


def test_a_name_glued_twice_must_keep_its_value():
    claims = Claims()
    claims.glue(n_max=512, rate=torch.tensor(0.5))
    claims.glue(n_max=512)
    assert claims.values == {"n_max": 512, "rate": 0.5}
    with pytest.raises(ValueError, match="'n_max' is glued twice"):
        claims.glue(n_max=256)
    with pytest.raises(TypeError, match="one number.*shape \\(2,\\)"):
        claims.glue(pair=torch.ones(2))


def test_the_table_shows_no_missing_values():
    claims = Claims()
    claims.check("a claim without numbers", True)
    claims.check("a claim with a flag and a count", True, fast=True, pairs=4096, text="ok")
    claims.check("a steps count that is never reached", True, steps=float("nan"))
    table = claims.table()
    assert table.loc[1, "measured"] == "-"
    assert table.loc[2, "measured"] == "fast = yes, pairs = 4,096, text = ok"
    assert table.loc[3, "measured"] == "steps = not finite"
    assert not table.isna().any().any()


def test_each_name_is_published_once():
    published = []
    claims = Claims(publish=lambda name, value: published.append((name, value)))
    claims.glue(cap=34.5, steps=float("nan"))
    claims.check("capacity above 30", 34.5 > 30, cap=34.5)  # shows a number glued above
    claims.glue(steps=float("nan"))
    assert published == [("cap", 34.5), ("steps", published[1][1])]
    assert np.isnan(published[1][1])
    with pytest.raises(ValueError, match="'cap' is glued twice"):
        claims.glue(cap=34)  # an int where a float was glued is another value


def test_the_table_shows_long_claims_in_full():
    claims = Claims(publish=lambda name, value: None)
    sentence = "the delta rule, nearly exact for a few pairs, falls apart beyond about twenty"
    claims.check(sentence, True)
    assert sentence in claims.table()._repr_html_()
    assert sentence in repr(claims.table())


def test_long_glued_names_may_wrap_at_their_underscores_in_html():
    claims = Claims(publish=lambda name, value: None)
    claims.check("a claim", True, steps_clustered_MatrixAssociativeMemory_100=0.5)
    html = claims.table()._repr_html_()
    assert "steps_\u200bclustered_\u200bMatrixAssociativeMemory_\u200b100 = 0.5" in html
    assert "steps_clustered_MatrixAssociativeMemory_100 = 0.5" in repr(claims.table())
    assert claims.table()["measured"].iloc[0].count("\u200b") == 0  # the values are unchanged


def test_glued_values_are_the_outputs_of_myst_nbs_glue():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from myst_nb import glue

    InteractiveShell.instance()
    for value in (34.5, 3, "text", float("nan")):
        with capture_output() as ours:
            Claims().glue(x=value)
        with capture_output() as theirs:
            glue("x", value, display=False)
        assert len(ours.outputs) == len(theirs.outputs) == 1
        assert ours.outputs[0].data == theirs.outputs[0].data
        assert ours.outputs[0].metadata == theirs.outputs[0].metadata
