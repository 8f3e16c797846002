"""Tables for readers: missing numbers say what they mean, and no number changes."""

import math

import numpy as np
import pandas as pd
import pytest

from memnb import battery, summaries

FRAME = pd.DataFrame({"protocol": ["adaptation"], "memory": ["m"]})


def profile(label: str, notes: dict[str, str] | None = None, **summary: object) -> battery.Profile:
    numbers = dict.fromkeys(battery.HEADLINES, battery.Estimate(1.0, 1.0, 1.0))
    return battery.Profile(label, FRAME.assign(memory=label), {**numbers, **summary}, notes or {})


def test_fill_missing_says_what_a_missing_cell_means():
    elbows = pd.Series([pd.NA, 8, 3], index=[0.01, 0.1, 0.3], dtype="Int64", name="elbow")
    shown = summaries.fill_missing(elbows.to_frame(), "not reached in 20 writes")
    assert shown["elbow"].tolist() == ["not reached in 20 writes", 8, 3]
    caps = pd.DataFrame({1: [np.nan, 5.0], 5: [13.1, 35.9]}, index=[32, 100])
    shown = summaries.fill_missing(caps, "")
    assert shown.to_dict() == {1: {32: "", 100: 5.0}, 5: {32: 13.1, 100: 35.9}}
    assert "NaN" not in shown.to_html() and "13.1" in shown.to_html()
    assert caps.isna().sum().sum() == 1  # the input is left as it was
    assert summaries.fill_missing(pd.Series([None, 1.5]), "none")[0] == "none"


@pytest.mark.parametrize(
    ("table", "text", "error", "message"),
    [
        ([1.0, math.nan], "x", TypeError, "table must be a pandas DataFrame or Series, got list"),
        (pd.Series([math.nan]), math.nan, TypeError, "text must be a string, got float"),
    ],
)
def test_fill_missing_rejects_what_it_cannot_show(table, text, error, message):
    with pytest.raises(error, match=message):
        summaries.fill_missing(table, text)


def test_summary_text_shows_each_number_with_its_interval():
    estimate = battery.Estimate(17.3247, 16.63, 18.0)
    steps = battery.Estimate(2.0, 2.0, math.inf)  # some resamples never get there
    mine = profile("mine", capacity_95=estimate, steps_to_90pct=steps)
    text = battery.summary_text([mine, profile("other")])
    assert list(text.columns) == list(battery.HEADLINES.values())
    assert list(text.index) == ["mine", "other"] and text.index.name == "memory"
    row = text.loc["mine"]
    assert row[battery.HEADLINES["capacity_95"]] == "17.3 [16.6, 18]"
    assert row[battery.HEADLINES["steps_to_90pct"]] == "2 [2, \u221e]"
    assert battery.summary_text(mine, digits=5).loc["mine"].iloc[1] == "17.325 [16.63, 18]"
    # The numbers are those of summary_table.
    table = battery.summary_table([mine])
    assert table.loc["mine", (battery.HEADLINES["capacity_95"], "value")] == 17.3247


def test_summary_text_says_why_a_number_is_missing():
    notes = {
        "steps_to_90pct": "the error never fell by 90 % within 20 writes",
        "forgetting": "not measurable: the memory did not learn task A",
    }
    never = profile(
        "never",
        notes,
        steps_to_90pct=math.nan,
        forgetting=math.nan,
        successor_cosine=battery.Estimate(0.5),  # no interval: the number alone
    )
    text = battery.summary_text([never])
    cells = dict(zip(battery.HEADLINES, text.loc["never"], strict=True))
    assert cells["steps_to_90pct"] == "not reached"
    assert cells["forgetting"] == "not measurable"
    assert cells["successor_cosine"] == "0.5"
    assert text.attrs["notes"] == [f"never: {note}" for note in notes.values()]
    assert not any("NaN" in cell or "nan" in cell for cell in text.to_numpy().ravel())


def test_summary_text_rejects_a_bad_precision():
    with pytest.raises(ValueError, match="digits must be a positive int, got 0"):
        battery.summary_text([profile("p")], digits=0)
    with pytest.raises(TypeError, match="digits must be a positive int, got 2.5"):
        battery.summary_text([profile("p")], digits=2.5)
