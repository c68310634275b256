"""The website: the API page documents every public function and class once, with examples
that run as a reader copies them, and the book builds with warnings as errors."""

import importlib
import importlib.util
import inspect
import itertools
import json
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nnlab as nl
from tests.book_cases import ROOT, toc_files

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
    assert_numbered_by_chapter(html)
    assert_every_page_has_an_icon(html)
    assert_ids_are_unique(html)
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


def assert_numbered_by_chapter(html):
    """Chapter n of the course is numbered n, as the text calls it, and so are its sections
    and exercises ("Exercise 8.2", for a teacher to give); the reference pages are not."""
    chapters = [name for name in toc_files() if re.match(r"book/\d\d_", name)]
    notebooks = sorted(f"book/{p.stem}" for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    assert chapters == notebooks, "_toc.yml must list every chapter notebook, in order"
    for n, name in enumerate(chapters, start=1):
        page = (html / f"{name}.html").read_text()
        assert f'<h1><span class="section-number">{n}. </span>' in page, name
        numbers = re.findall(r"Exercise (\d+)\.(\d+)", page)
        assert numbers, f"{name}: a chapter ends with one or more exercises; it has none"
        assert {int(c) for c, _ in numbers} == {n}, (name, numbers[:3])
    for name in ("glossary", "references", "api"):
        page = (html / "book" / f"{name}.html").read_text()
        assert '<h1><span class="section-number">' not in page, name


def assert_every_page_has_an_icon(html):
    """Every page names the site's icon, which the site holds (with none, a browser asks for
    /favicon.ico, and the server answers 404). The top index.html only redirects."""
    pages = [*html.glob("book/*.html"), *(p for p in html.glob("*.html") if p.name != "index.html")]
    assert len(pages) >= 20
    for page in pages:
        link = re.search(r'<link rel="icon" href="([^"]+)"', page.read_text())
        assert link, f"{page.name} names no icon"
        assert (page.parent / link.group(1)).resolve().is_file(), (page.name, link.group(1))


def assert_ids_are_unique(html):
    """No page has two elements of one id: a link to it would land on the first, and a
    screen reader's label would name the wrong one (book/_ext/nnlab_site.py)."""
    for page in [*html.glob("book/*.html"), *html.glob("*.html")]:
        ids = re.findall(r'\sid="([^"]+)"', page.read_text())
        twice = sorted({name for name in ids if ids.count(name) > 1})
        assert not twice, (page.name, twice)


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


def _documented(module):
    """The classes and functions defined in ``module``, and the methods of its classes."""
    for obj in vars(module).values():
        if getattr(obj, "__module__", None) == module.__name__ and callable(obj):
            yield obj
            if inspect.isclass(obj):
                yield from (f for f in vars(obj).values() if inspect.isfunction(f))


def test_no_numpydoc_parameters_section_holds_a_paragraph():
    # BatchNorm's paragraph on its shapes and buffers stood under "Parameters", and the
    # API page showed each of its lines as a parameter ("PyTorch (as in)", "Shapes").
    entry = re.compile(r"[\w*, ]+( : .*)?")
    wrong = []
    for info in pkgutil.iter_modules(nl.__path__):
        for obj in _documented(importlib.import_module(f"nnlab.{info.name}")):
            lines = [*(inspect.getdoc(obj) or "").split("\n"), ""]
            section = None
            for line, underline in itertools.pairwise(lines):
                if re.fullmatch(r"-{3,}", underline):
                    section = line.strip()
                elif (section in ("Parameters", "Attributes") and line[:1] not in ("", " ")
                        and not entry.fullmatch(line) and not re.fullmatch(r"-{3,}", line)):
                    wrong.append(f"{obj.__qualname__}: {line}")
    assert not wrong
