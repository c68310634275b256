"""The book builds with warnings as errors, and every chapter is in the table of contents."""

import importlib
import importlib.util
import inspect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import nnlab as nl

ROOT = Path(__file__).resolve().parents[1]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for entry in toc.get("chapters", []):
        files.append(entry["file"])
    return files


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
#: MyST roles and labels, links, "chapter 12" and years.
NOT_A_RESULT = re.compile(r"\{[\w:-]+\}`[^`]*`|`[^`]*`|\(\w[\w-]*\)=|:label:.*"
                          r"|\[[^\]]*\]\([^)]*\)|\b[Cc]hapters? \d+|\b(?:19|20)\d\d\b")
#: The numbers a chapter gives rather than computes: exercise data, facts about a data set,
#: ranges of practice, and the constants of formulas and settings that its maths states.
GIVENS = {
    "01_prerequisites.ipynb": {"43": "writers of the digits' full collection",
                               "32": "side of the original bitmaps (data set description)",
                               "17": "grey levels, the exercise's data",
                               "13": "writers of the digits in the data set (its description)"},
    "02_perceptron.ipynb": {},
    "03_forward_propagation.ipynb": {"784": "exercise data", "256": "exercise data",
                                     "128": "exercise data", "32": "exercise data"},
    "04_activations.ipynb": {},
    "05_initialization.ipynb": {"0.05": "the limit of the fixed uniform range, Keras's "
                                         "RandomUniform default (printed as 0.0500)"},
    "06_losses.ipynb": {},
    "07_gradient_descent.ipynb": {"256": "usual batch sizes, 16 to 256"},
    "08_optimizers.ipynb": {"13": "passes of the textbook form of Adam's update"},
    "09_backpropagation.ipynb": {"32": "exercise data", "100": "exercise data",
                                 "50": "exercise data"},
    "10_training_mlp.ipynb": {},
    "11_vanishing_gradients.ipynb": {"0.1": "the rate of an SGD run the text describes "
                                            "and does not run (its result varies by machine)"},
    "12_beyond_dense.ipynb": {},
    "13_summary.ipynb": {"12": "exercise data: house prices from 12 features",
                         "0.96": "the base of NAdam's momentum schedule, a constant of "
                                 "its formula"},
}


def test_every_whole_number_in_the_text_is_computed_or_given():
    # A count such as "449 test images" is a result as much as an accuracy is: when the
    # data or the code change, it changes. Every whole number of the prose and its maths
    # from 10 up must be written in the chapter's code or printed by it, or be one of the
    # chapter's givens.
    missing = []
    for name, computed, prose in chapters_prose():
        written = set(re.findall(r"\d+", computed.replace(",", "")))
        givens = GIVENS.get(name, {})
        for number, text in prose:
            for match in WHOLE.finditer(NOT_A_RESULT.sub(" ", text)):
                value = match.group(1).replace(",", "")
                if value not in written and value not in givens:
                    missing.append(f"{name} cell {number}: {match.group(1)}")
    assert not missing, ("whole numbers of the text that no code cell or output of their "
                         "chapter contains (compute them, or add them to GIVENS):\n"
                         + "\n".join(missing))


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
    norm.buffers["running_mean"][:] = rng.standard_normal(8)   # as if trained
    norm.buffers["running_var"][:] = rng.uniform(0.5, 2, 8)
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


#: A directive of the API page (book/api.md) that documents code: its kind, target and options.
DIRECTIVE = re.compile(r"^\.\. auto(module|class|data|function):: ([\w.]+)(?:\(.*\))?\n"
                       r"((?:   :.*\n)*)", re.M)


def api_directives():
    return [(kind, target, dict(re.findall(r"   :([\w-]+):(.*)", options)))
            for kind, target, options in DIRECTIVE.findall(
                (ROOT / "book" / "api.md").read_text())]


def documented_names(module, options):
    """The names an automodule directive with these options documents, as autodoc picks
    them: its ``:members:`` list, or for a bare ``:members:`` the module's ``__all__`` (or
    its own public names), functions and classes with a docstring and constants with a
    ``#:`` comment."""
    names = [n.strip() for n in options.get("members", "").split(",") if n.strip()]
    if "members" in options and not names:
        names = getattr(module, "__all__", None) or [
            n for n, o in vars(module).items()
            if not n.startswith("_") and getattr(o, "__module__", None) == module.__name__]
        source = inspect.getsource(module)
        names = [n for n in names if (callable(getattr(module, n)) and getattr(module, n).__doc__)
                 or re.search(rf"^#:.*\n(?:#:.*\n)*{n}\b", source, re.M)]
    excluded = {n.strip() for n in options.get("exclude-members", "").split(",")}
    return [n for n in names if n not in excluded]


def test_the_api_page_documents_every_public_function_and_class_once():
    # Every function or class with a docstring that a module of the page defines or offers
    # in its __all__ is on the page, and once only: a second entry (the same function under
    # the module that re-exports it) says nothing new.
    where, modules = {}, []
    for kind, target, options in api_directives():
        if kind == "module":
            module = importlib.import_module(target)
            modules.append(module)
            objects = [getattr(module, n) for n in documented_names(module, options)]
        else:
            parent, _, name = target.rpartition(".")
            objects = [getattr(importlib.import_module(parent), name)]
        for obj in objects:
            if inspect.isfunction(obj) or inspect.isclass(obj):
                where.setdefault(obj, []).append(target)
    twice = [places for places in where.values() if len(places) > 1]
    missing = []
    for module in modules:
        public = set(getattr(module, "__all__", [])) | {
            n for n, o in vars(module).items()
            if not n.startswith("_") and getattr(o, "__module__", None) == module.__name__}
        for name in sorted(public):
            obj = getattr(module, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__doc__ \
                    and obj not in where:
                missing.append(f"{module.__name__}.{name}")
    assert not missing and not twice, f"not on the API page: {missing}; twice: {twice}"


#: Runs every example of the modules given as arguments as a reader would: in a new
#: interpreter where only ``import numpy as np`` and ``import nnlab as nl`` ran, the modules
#: that import loads and no other (a module an example uses, it must import). Prints the
#: modules with a failing example.
FRESH_SESSION = """
import doctest, importlib, json, sys, warnings
import matplotlib
matplotlib.use("Agg")
import numpy as np
import nnlab as nl
baseline, attributes = {m for m in sys.modules if m.startswith("nnlab.")}, set(vars(nl))
tests = [t for name in sys.argv[1:]
         for t in doctest.DocTestFinder().find(importlib.import_module(name)) if t.examples]
failing = set()
for test in tests:
    for m in [m for m in sys.modules if m.startswith("nnlab.") and m not in baseline]:
        del sys.modules[m]
    for a in set(vars(nl)) - attributes:
        delattr(nl, a)
    test.globs = {"np": np, "nl": nl}
    runner = doctest.DocTestRunner()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner.run(test, out=lambda text: None)
    if runner.failures:
        failing.add(test.name.split(".")[1])
print(json.dumps(sorted(failing)))
"""


def test_the_api_pages_examples_run_as_a_reader_copies_them():
    modules = {target.split(".")[1] for _, target, _ in api_directives()}
    result = subprocess.run([sys.executable, "-c", FRESH_SESSION,
                             *(f"nnlab.{m}" for m in sorted(modules))],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    failing = json.loads(result.stdout.splitlines()[-1])
    assert not failing, f"modules whose examples fail in a fresh session (np, nl only): {failing}"


def test_every_toc_entry_exists():
    for name in toc_files():
        matches = list(ROOT.glob(name + ".*"))
        assert matches, f"_toc.yml lists {name}, which does not exist"


@pytest.mark.slow
def test_book_builds_without_warnings(tmp_path):
    jb = Path(sys.executable).with_name("jupyter-book")
    out = tmp_path / "site"
    result = subprocess.run(
        [str(jb), "build", str(ROOT), "--path-output", str(out), "-W", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = out / "_build" / "html"
    assert (html / "index.html").exists()
    for name in toc_files():
        assert (html / f"{name}.html").exists(), f"{name}.html was not built"
    if (ROOT / "_vendor" / "web" / "versions.json").exists():
        assert_served_locally(html)
    assert_citations_match_the_list(html)
    assert_api_page_entries(html)
    shutil.rmtree(out / "_build" / ".doctrees", ignore_errors=True)


def assert_citations_match_the_list(html):
    """A citation, "[Rumelhart et al., 1986]" or "Rumelhart et al. [1986]", is the end of
    the label its entry has in the bibliography (book/_ext/author_year_labels.py)."""
    labels = dict(re.findall(r'<div class="citation" id="([^"]+)"[^>]*>\s*<span class="label">'
                             r'<span class="fn-bracket">\[</span>([^<]+)<',
                             (html / "book" / "references.html").read_text()))
    assert "Rumelhart et al., 1986" in labels.values()
    cited = 0
    for page in (html / "book").glob("*.html"):
        for target, text in re.findall(r'href="references.html#([^"]+)"[^>]*>(.*?)</a>',
                                       page.read_text()):
            text = text.replace("<em>", "").replace("</em>", "")
            assert labels[target].rstrip("ab").endswith(text), (page.name, text, labels[target])
            cited += 1
    assert cited > 50


def assert_api_page_entries(html):
    """The API page has an entry for each layer's forward and backward and for each attribute
    of Sequential, no entry twice, and signatures that show values as Python writes them
    (``w00=0.2``, not ``np.float64(0.2)``; no ``<factory>``)."""
    page = (html / "book" / "api.html").read_text()
    entries = re.findall(r'<dt class="sig sig-object py" id="([^"]+)">(.*?)</dt>', page, re.S)
    ids = [name for name, _ in entries]
    assert len(ids) == len(set(ids)), sorted(name for name in ids if ids.count(name) > 1)
    layers = [getattr(nl.layers, name) for name in nl.layers.__all__]
    expected = [f"{c.__module__}.{c.__name__}.{method}" for c in layers
                if isinstance(c, type) and issubclass(c, nl.Layer)
                for method in ("forward", "backward")]
    expected += [f"nnlab.model.Sequential.{attribute}" for attribute in
                 ("loss", "optimizer", "metrics", "history", "stop_reason")]
    assert not set(expected) - set(ids), sorted(set(expected) - set(ids))
    signatures = [re.sub(r"<[^>]+>", "", signature) for _, signature in entries]
    calls = [s for s in signatures if "(" in s and "=" not in s.split("(")[0]]
    noisy = [s for s in calls if re.search(r"np\.\w+\(|&lt;\w+&gt;", s)]
    assert not noisy, noisy


def assert_served_locally(html):
    """With the vendored MathJax, no page asks another site for it, and no page loads the
    widget manager, which the static explorers do not need (book/_ext/nnlab_site.py)."""
    assert (html / "mathjax" / "tex-mml-chtml.js").exists()
    for page in html.rglob("*.html"):
        text = page.read_text()
        for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com"):
            assert f"{cdn}/npm/mathjax" not in text, f"{page.name} loads MathJax from {cdn}"
        assert "embed-amd.js" not in text and "require.js" not in text, (
            f"{page.name} loads the widget manager")


def test_vendoring_without_a_registry_falls_back_to_the_cdns(tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("vendor_web", ROOT / "scripts" / "vendor_web.py")
    vendor_web = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vendor_web)
    npm = tmp_path / "npm"   # an npm that cannot reach its registry
    npm.write_text("#!/bin/sh\necho 'npm error network' >&2\nexit 1\n")
    npm.chmod(0o755)
    monkeypatch.setattr(vendor_web.shutil, "which", lambda name: str(npm))
    kept = tmp_path / "web" / "mathjax"
    kept.mkdir(parents=True)
    assert vendor_web.main(str(tmp_path / "web")) == 0
    assert "from its CDN" in capsys.readouterr().out
    assert kept.exists()   # an earlier copy is not deleted for nothing
