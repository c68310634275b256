"""The chapter notebooks: every one is in the table of contents, their outputs fit the
page and have text alternatives, their text's numbers are computed by their code, and
every solution's code is run."""

import ast
import json
import re

import numpy as np
import pytest

import nnlab as nl
from tests.book_cases import ROOT, toc_files


def test_every_notebook_is_in_the_toc():
    listed = set(toc_files())
    notebooks = {f"book/{p.stem}" for p in (ROOT / "book").glob("*.ipynb")}
    assert notebooks <= listed, f"notebooks missing from _toc.yml: {sorted(notebooks - listed)}"


#: Characters of a code cell or its printed output that a book page shows without scrolling
#: sideways, in a 1280-pixel window. The code cells' limit is ruff's (book/ruff.toml).
PAGE_WIDTH = 79
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_printed_text_and_code_in_the_text_fit_the_page():
    too_wide = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for number, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                fences = "".join(cell["source"]).split("```")[1::2]
                lines = [line for fence in fences for line in fence.splitlines()]
            else:
                lines = [line for output in cell.get("outputs", [])
                         for line in _printed_text(output).splitlines()]
            too_wide += [f"{path.name} cell {number}: {line}" for line in lines
                         if len(line) > PAGE_WIDTH]
    assert not too_wide, "\n".join(too_wide)


def test_every_explorer_output_has_its_static_version():
    # The website shows an explorer's static HTML and loads no widget manager
    # (book/_ext/nnlab_site.py): a widget output without it would show nothing there.
    bare = [f"{path.name} cell {number}"
            for path in sorted((ROOT / "book").glob("*.ipynb"))
            for number, cell in enumerate(json.loads(path.read_text())["cells"])
            for output in cell.get("outputs", [])
            if WIDGET_VIEW in output.get("data", {}) and "text/html" not in output["data"]]
    assert not bare, bare


def test_every_layer_a_chapter_builds_with_random_weights_takes_a_seed():
    # Four cells built layers without one: weights new at every run, which nothing printed
    # showed, where the README says that every random thing is seeded.
    unseeded = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for number, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] != "code":
                continue
            for call in ast.walk(ast.parse("".join(cell["source"]))):
                name = getattr(getattr(call, "func", None), "attr", None)
                keywords = {k.arg: k.value for k in getattr(call, "keywords", [])}
                constant = getattr(keywords.get("init"), "value", None) in ("zeros", "ones")
                if name in ("Dense", "Conv1D", "Conv2D", "Dropout") and not (
                        "rng" in keywords or constant):
                    unseeded.append(f"{path.name} cell {number}: {ast.unparse(call)}")
    assert not unseeded


def test_every_figure_has_a_text_alternative():
    # A screen reader reads the alt text; without it, a page offers the image's file name.
    missing = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for number, cell in enumerate(json.loads(path.read_text())["cells"]):
            figures = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            if figures and len(alt.split()) < 5:
                missing.append(f"{path.name} cell {number}")
    assert not missing, "figures without alt text (cell metadata mystnb.image.alt): " + \
        ", ".join(missing)


def _printed_text(output):
    """The text a page shows for an output (a widget or a figure shows itself instead)."""
    if output["output_type"] == "stream":
        return "".join(output["text"])
    data = output.get("data", {})
    if WIDGET_VIEW in data or "image/png" in data or "text/html" in data:
        return ""
    return "".join(data.get("text/plain", ""))


#: What the number checks leave out of a markdown cell: code fences (a solution's code is a
#: code cell, which nbval runs; see the test of solutions below). Maths is checked like
#: prose: a worked number such as $\sigma(0.1) = 0.525$ is a result, and a thin space
#: between digit groups ($235\,146$) is part of the number.
FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", re.S | re.M)
THIN_SPACE = re.compile(r"(?<=\d)\\,(?=\d{3})")
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.]*\d)")


def chapters_prose():
    """For each chapter: its name, everything its code writes or prints, and the text of
    each markdown cell (``(cell number, text)``) without code fences."""
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
        printed = [_printed_text(output) for cell in cells for output in cell.get("outputs", [])]
        prose = [(number, THIN_SPACE.sub("", FENCE.sub(" ", "".join(cell["source"])
                                                       .replace("\\$", " "))))
                 for number, cell in enumerate(cells) if cell["cell_type"] == "markdown"]
        yield path.name, "\n".join(code + printed), prose


def test_every_decimal_number_in_the_text_is_in_the_chapters_code_or_output():
    # The course's promise: a number the text states is computed by the chapter's code, and
    # nbval re-runs that code and compares what it prints. So every decimal number of the
    # prose and its maths must be written in one of the chapter's code cells or printed by
    # one, or be one of the chapter's givens (a constant of a formula, a setting).
    missing = []
    for name, computed, prose in chapters_prose():
        givens = GIVENS.get(name, {})
        for number, text in prose:
            for value in dict.fromkeys(DECIMAL.findall(text)):
                if value not in givens and not re.search(
                        rf"(?<![\d.]){re.escape(value)}(?!\d)", computed):
                    missing.append(f"{name} cell {number}: {value}")
    assert not missing, ("decimal numbers of the text that no code cell or output of their "
                         "chapter contains (compute them, or add them to GIVENS):\n"
                         + "\n".join(missing))


#: A quantity the text claims in whole numbers: "97 %", "500 times", "a factor of 11".
CLAIM = re.compile(r"(?<![\w.])(\d+)\s*(%|per cent|times\b)|factor of (?:about )?(\d+)\b")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def test_every_percentage_and_ratio_in_the_text_is_computed_by_the_chapter():
    # Whole numbers are mostly counts and givens (784 inputs, chapter 12, 1958), but a
    # percentage or a ratio is a result: it must be written in the chapter's code or
    # output, or be a computed number rounded ("97 %" for a printed 0.967, "a factor of
    # about 11" for a printed 11.3).
    missing = []
    for name, computed, prose in chapters_prose():
        numbers = [float(n) for n in NUMBER.findall(computed)]
        for number, text in prose:
            for claim in CLAIM.finditer(text):
                value = int(claim.group(1) or claim.group(3))
                scale = 100 if claim.group(2) in ("%", "per cent") else 1
                if not any(abs(x - value) <= 0.5 or abs(x * scale - value) <= 0.5
                           for x in numbers):
                    missing.append(f"{name} cell {number}: {' '.join(claim.group().split())}")
    assert not missing, ("percentages and ratios of the text that no code cell or output of "
                         "their chapter computes:\n" + "\n".join(missing))


#: A whole number of the prose: two digits or more, or thousands with commas ("1,370").
WHOLE = re.compile(r"(?<![\w.,\-/^_{])(\d{2,}|\d{1,3}(?:,\d{3})+)(?![\w.]*\d|[\w%]|\s*%)")
#: What the whole-number check leaves out besides maths and code fences: inline code,
#: MyST roles and labels, links and "chapter 12". Years are givens: were every number from
#: 1900 to 2099 left out, a loss of 2000 that the code no longer prints would pass.
NOT_A_RESULT = re.compile(r"\{[\w:-]+\}`[^`]*`|`[^`]*`|\(\w[\w-]*\)=|:label:.*"
                          r"|\[[^\]]*\]\([^)]*\)|\b[Cc]hapters? \d+")
#: The numbers a chapter gives rather than computes: exercise data, facts about a data set,
#: ranges of practice, and the constants of formulas and settings that its maths states.
GIVENS = {
    "01_prerequisites.ipynb": {"43": "writers of the digits' full collection",
                               "32": "side of the original bitmaps (data set description)",
                               "17": "grey levels, the exercise's data",
                               "13": "writers of the digits in the data set (its description)",
                               "15.3": "AlexNet's ILSVRC-2012 top-5 test error, in per cent",
                               "26.2": "the ILSVRC-2012 runner-up's top-5 test error",
                               "1958": "a year of the short history", "1969": "a year",
                               "1986": "a year", "2006": "a year", "2012": "a year"},
    "02_perceptron.ipynb": {},
    "03_forward_propagation.ipynb": {"784": "exercise data", "256": "exercise data",
                                     "128": "exercise data", "32": "exercise data"},
    "04_activations.ipynb": {},
    "05_initialization.ipynb": {"0.05": "the limit of the fixed uniform range, Keras's "
                                         "RandomUniform default (printed as 0.0500)"},
    "06_losses.ipynb": {"2026": "the year of Keras's Tversky fix"},
    "07_gradient_descent.ipynb": {"256": "usual batch sizes, 16 to 256"},
    "08_optimizers.ipynb": {"13": "passes of the textbook form of Adam's update",
                            "1993": "Rprop's year"},
    "09_backpropagation.ipynb": {"32": "exercise data", "100": "exercise data",
                                 "50": "exercise data"},
    "10_training_mlp.ipynb": {},
    "11_vanishing_gradients.ipynb": {"0.1": "the rate of an SGD run the text describes "
                                            "and does not run (its result varies by machine)"},
    "12_beyond_dense.ipynb": {"25": "the weights of a 5 x 5 kernel, exercise data"},
    "13_summary.ipynb": {"12": "exercise data: house prices from 12 features",
                         "2006": "the year of deep belief networks",
                         "0.96": "the base of NAdam's momentum schedule, a constant of "
                                 "its formula",
                         "0.25": "the default alpha of the focal losses of Keras and "
                                 "torchvision"},
}


def test_every_whole_number_in_the_text_is_computed_or_given():
    # A count such as "449 test images" is a result as much as an accuracy is: when the
    # data or the code change, it changes. Every whole number of the prose and its maths
    # from 10 up must be written in the chapter's code or printed by it, or be one of the
    # chapter's givens.
    missing = []
    for name, computed, prose in chapters_prose():
        # Whole numbers and the whole parts of decimals, not their decimals: "000" is no
        # count that a printed 0.000 computes.
        written = set(re.findall(r"(?<![\d.])\d+", computed.replace(",", "")))
        givens = GIVENS.get(name, {})
        for number, text in prose:
            for match in WHOLE.finditer(NOT_A_RESULT.sub(" ", text)):
                value = match.group(1).replace(",", "")
                if value not in written and value not in givens:
                    missing.append(f"{name} cell {number}: {match.group(1)}")
    assert not missing, ("whole numbers of the text that no code cell or output of their "
                         "chapter contains (compute them, or add them to GIVENS):\n"
                         + "\n".join(missing))


def test_every_chapter_is_stored_executed_top_to_bottom():
    # nbval compares the stored outputs: a cell saved unrun has none, and passes. The book
    # does not run the notebooks either (execution_mode "off"): it would show no output.
    out_of_order = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        counts = [cell.get("execution_count")
                  for cell in json.loads(path.read_text())["cells"]
                  if cell["cell_type"] == "code" and "".join(cell["source"]).strip()]
        if counts != list(range(1, len(counts) + 1)):
            out_of_order.append(f"{path.name}: execution counts {counts}")
    assert not out_of_order, ("run them with scripts/execute_notebooks.py:\n"
                              + "\n".join(out_of_order))


def test_every_given_number_is_in_its_chapters_text():
    unused = []
    for name, _, prose in chapters_prose():
        found = set()
        for _, text in prose:
            found.update(DECIMAL.findall(text))
            found.update(match.group(1).replace(",", "")
                         for match in WHOLE.finditer(NOT_A_RESULT.sub(" ", text)))
        unused += [f"{name}: {value}" for value in GIVENS.get(name, {}) if value not in found]
    assert not unused, "GIVENS that their chapter's text no longer has:\n" + "\n".join(unused)


#: A solution directive written in one piece: its code fences are text, which nothing runs.
SOLUTION = re.compile(r"^(:{3,}|`{3,})\{solution\} ([\w-]+)\n.*?^\1[ \t]*$", re.S | re.M)
#: Solutions whose code the book cannot run, and the test that runs it instead.
RUN_ELSEWHERE = {"ex-summary-1": "PyTorch code: test_the_pytorch_translation_is_the_model"}


def test_every_solutions_code_is_run():
    # A solution with code is written gated, {solution-start} ... {solution-end} around
    # code cells, so that nbval runs its code and compares what it prints like any other
    # cell's: code in a fence would be shown and never run.
    fenced = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for number, cell in enumerate(json.loads(path.read_text())["cells"]):
            for solution in SOLUTION.finditer("".join(cell["source"])):
                if "```" in solution.group() and solution.group(2) not in RUN_ELSEWHERE:
                    fenced.append(f"{path.name} cell {number}: {solution.group(2)}")
    assert not fenced, "solutions whose code is a fence, not a code cell:\n" + "\n".join(fenced)


def test_the_pytorch_translation_is_the_model():
    # Chapter 13's first exercise translates the chapter's model into PyTorch. With the
    # same weights, the translation must compute the same function.
    torch = pytest.importorskip("torch")
    cells = json.loads((ROOT / "book" / "13_summary.ipynb").read_text())["cells"]
    namespace = {"nl": nl}
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "model = nl.Sequential(" in source:
            exec(source.replace("model.summary", "(lambda **_: None)"), namespace)
        for solution in SOLUTION.finditer(source if cell["cell_type"] == "markdown" else ""):
            if solution.group(2) == "ex-summary-1":
                exec(FENCE.search(solution.group()).group().strip("`\n")
                     .removeprefix("python\n"), namespace)
    model, torch_model = namespace["model"], namespace["torch_model"].double().eval()
    conv, norm, _, _, _, block, _, dense = model.layers
    rng = np.random.default_rng(0)
    channels = len(norm.buffers["running_mean"])
    norm.buffers["running_mean"][:] = rng.standard_normal(channels)   # as if trained
    norm.buffers["running_var"][:] = rng.uniform(0.5, 2, channels)
    with torch.no_grad():
        torch_model[0].weight.copy_(torch.from_numpy(conv.params["W"]))
        torch_model[0].bias.copy_(torch.from_numpy(conv.params["b"]))
        torch_model[1].weight.copy_(torch.from_numpy(norm.params["gamma"]))
        torch_model[1].bias.copy_(torch.from_numpy(norm.params["beta"]))
        torch_model[1].running_mean.copy_(torch.from_numpy(norm.buffers["running_mean"]))
        torch_model[1].running_var.copy_(torch.from_numpy(norm.buffers["running_var"]))
        inner = block.layers[0]
        torch_model[5].f[0].weight.copy_(torch.from_numpy(inner.params["W"].T))
        torch_model[5].f[0].bias.copy_(torch.from_numpy(inner.params["b"]))
        torch_model[7].weight.copy_(torch.from_numpy(dense.params["W"].T))
        torch_model[7].bias.copy_(torch.from_numpy(dense.params["b"]))
    x = rng.standard_normal((5, 1, 8, 8))
    expected = model.predict(x)
    got = torch_model(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_every_toc_entry_exists():
    for name in toc_files():
        matches = list(ROOT.glob(name + ".*"))
        assert matches, f"_toc.yml lists {name}, which does not exist"
