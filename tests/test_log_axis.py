"""nnlab.log_axis: minor ticks and their labels on the log axes of nnlab.plot, and the short
ticks of panels side by side."""

import warnings

import numpy as np
import pytest

from nnlab import plot


def test_minor_log_ticks_count_decades_without_overflow():
    # 1 / 1e-300 is fine, but the margin puts the axis below 1e-308: the ratio overflowed.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot.pixels(plot.curves({"a": [1e-300, 1.0]}, logy=True))


def minor_labels(values):
    fig = plot.curves({"a": values}, logy=True)
    plot.pixels(fig)
    return [t.get_text() for t in fig.axes[0].yaxis.get_minorticklabels() if t.get_text()]


@pytest.mark.parametrize("values", [[3.001, 3.002], [0.3001, 0.3002], [88.0, 88.001]])
def test_log_scale_labels_close_ticks_apart(values):
    # Over 3.001 .. 3.002 the six ticks inside were labeled 3.001 three times, then 3.002.
    labels = minor_labels(values)
    assert len(labels) > 2 and len(set(labels)) == len(labels), labels
    assert all("e" not in label for label in labels), labels


def test_log_scale_labels_of_ordinary_ranges_keep_their_digits():
    assert minor_labels([0.5, 0.02]) == ["0.02", "0.03", "0.04", "0.06", "0.2", "0.3", "0.4",
                                         "0.6"]
    assert minor_labels([1200, 1500])[:3] == ["1150", "1200", "1250"]
    # Beyond 1e4, as the axis writes its powers of ten: "2e+04" beside "10^5" read as two
    # notations (a gradient-flow explorer's axis mixed "4e+72" with "10^72").
    assert minor_labels([2e4, 9e4]) == [rf"$\mathdefault{{{m}\times10^{{4}}}}$"
                                        for m in (2, 3, 4, 6)]
    assert minor_labels([2e-5, 9e-5])[0] == "$\\mathdefault{2\\times10^{\u22125}}$"
    assert minor_labels([2e-4, 9e-4]) == ["0.0002", "0.0003", "0.0004", "0.0006"]   # 1e-4 on
    close = minor_labels([3.001e5, 3.002e5])   # more digits, the same notation
    assert len(close) > 2 and len(set(close)) == len(close), close
    assert all(label.endswith(r"\times10^{5}}$") for label in close), close


@pytest.mark.parametrize("spread, labels, power", [
    (1.0, ["\u22121", "0", "1"], ""), (2e5, ["\u22122", "0", "2"], "\u00d71e5"),
    (2.5e-3, ["\u22122", "0", "2"], "\u00d71e\u22123")])
def test_histogram_ticks_are_short_and_clear_of_the_panels_ends(spread, labels, power):
    # An exploding network's histograms: "-200000" at each end of a panel ran into the next,
    # and so did "2e23" and "4e23", or "-0.0025" and "0.0025": they share a power of ten.
    values = [np.linspace(-spread, spread, 101)] * 3
    fig = plot.activation_histograms(values)
    plot.pixels(fig)
    for ax in fig.axes:
        low, high = ax.get_xlim()
        ticks = ax.xaxis.get_majorticklocs()
        assert np.all((ticks > low + (high - low) / 16) & (ticks < high - (high - low) / 16))
        assert [t.get_text() for t in ax.get_xticklabels()] == labels
        assert ax.xaxis.get_offset_text().get_text() == power



@pytest.mark.parametrize("values", [
    # Each panel its own range (spreads a thousandfold apart): ticks close together far from
    # 0 were all labeled "0.5", or "1" over "x1e3"; a constant panel at 1e5, "1" three times.
    [0.5 + 0.1 * np.linspace(-1, 1, 101), 0.5 + 1e-4 * np.linspace(-1, 1, 101)],
    [1000 + np.linspace(-1, 1, 101), 1000 + 1e-3 * np.linspace(-1, 1, 101)],
    [np.linspace(-1, 1, 101), 1000 * np.linspace(-1, 1, 101), np.full(101, 1e5)]])
def test_histogram_ticks_of_a_panel_are_told_apart(values):
    fig = plot.activation_histograms(values)
    plot.pixels(fig)
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert len(labels) >= 2 and len(set(labels)) == len(labels), labels


def test_short_ticks_pass_over_a_tick_that_is_not_finite():
    fig = plot.activation_histograms([2e5 * np.linspace(-1, 1, 101)])
    formatter = fig.axes[0].xaxis.get_major_formatter()
    assert formatter.format_ticks([-2e5, np.nan, 2e5]) == ["\u22122", "nan", "2"]


def test_three_histogram_labels_of_four_characters_keep_every_other_tick():
    # Sigmoid's panels read "0.250.50.75": three labels that wide fill a panel.
    values = np.random.default_rng(0).uniform(0.1, 0.9, size=(6, 500))
    fig = plot.activation_histograms(list(values))
    plot.pixels(fig)
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0.25", "0.75"]
    fig = plot.activation_histograms(list(4 * values - 2))
    plot.pixels(fig)   # short labels: three ticks
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["\u22121", "0", "1"]


def minor_tick_places(low, high):
    _, ax = plot.one_axes()
    ax.plot([low, high], [low, high])
    plot.log_y(ax)
    ax.set_ylim(low, high)
    return ax.yaxis.get_minorticklocs()


def test_minor_log_ticks_stop_past_three_decades():
    assert len(minor_tick_places(1.0, 1e3)) > 0              # 2, 3, ..., 9 times each power
    assert len(minor_tick_places(1.0, 10 ** 3.5)) == 0        # a grey band of 28 ticks: none
    assert len(minor_tick_places(1e-6, 10 ** -2.2)) == 0
