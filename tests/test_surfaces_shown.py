"""``nl.surfaces.shown``: a race's value printed, or "chaotic" where a nudge of the rate by
``NUDGE`` moves it (chapter 8's tables)."""

import pytest

import nnlab as nl
from nnlab import surfaces


@pytest.mark.parametrize(("value", "nudged", "spec", "text"), [
    (0.123456, 0.123456, ".4g", "0.1235"),
    (0.123456, 0.123456 * (1 + 1e-9), ".4g", "0.1235"),   # within a millionth
    (0.0123, 0.0125, ".4g", "chaotic"),
    (-1.0, -1.0 + 1e-5, " .4g", "chaotic"),
    (0.0, 0.0, ".2f", "0.00"),
    (0.0, 1e-300, ".2f", "chaotic"),   # any change of a 0 is a relative change
    (11.81, 11.81, "10.4g", "     11.81"),
])
def test_shown_prints_a_value_only_where_the_nudge_leaves_it(value, nudged, spec, text):
    assert surfaces.shown(value, nudged, spec) == text


def test_a_path_that_hops_along_the_valley_is_chaotic_and_a_settled_one_is_not():
    # Chapter 8's race on the Rosenbrock valley: RMSprop never stops hopping along the
    # floor, Adam settles at the minimum.
    s = surfaces.get("rosenbrock")
    ends = {}
    for lr in (0.0005, 0.0005 * (1 + surfaces.NUDGE)):
        for name, path in surfaces.race("rosenbrock", ["RMSprop", "Adam"], lr=lr,
                                        steps=2000).items():
            ends.setdefault(name, []).append(s.f(path[-1]))
    assert surfaces.shown(*ends["RMSprop"]) == "chaotic"
    assert surfaces.shown(*ends["Adam"], ".3g") == "1.27e-06"
    assert nl.surfaces.NUDGE == 1e-12
