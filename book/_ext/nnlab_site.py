"""Sphinx extension of the nnlab book: serve its own JavaScript, and tidy the pages.

- When ``_vendor/web`` holds the vendored MathJax (``scripts/vendor_web.py``, run by
  ``make book``), it is served from the site itself, so that every page works with no
  network.
- No page loads the Jupyter widget manager: every explorer's output carries its static
  HTML version, which the pages show (``nb_mime_priority_overrides`` in ``_config.yml``),
  so its 3.6 MB of JavaScript (require.js and embed-amd.js) would render nothing there.
- Jupyter Book registers some inline scripts twice (``Identifier ... has
  already been declared`` in the console); keep the first of identical entries.
- A first visit has no stored theme mode, and the theme logs an error for the
  empty value; default it to "auto" before the theme reads it.
- ``static/nnlab.css``: the book's own few style rules (pages that fit a phone).
- sphinx-exercise gives the body of every exercise the id ``exercise-content`` (and of
  every solution ``solution-content``): a page of four exercises had four elements with
  one id. They are numbered, ``exercise-content-1`` to ``-4``.
- ``static/nnlab-sidebars.js``: the sidebar buttons of the article header work again
  (pydata-sphinx-theme 0.17 attaches their handlers to hidden copies of them).
- ``static/nnlab-solutions.js``: each solution's button is named after its exercise
  (sphinx-togglebutton calls every one "Toggle hidden content").
- ``static/nnlab-formulas.js``: a display formula too wide for its column, which scrolls
  sideways, is a tab stop, so that a keyboard can scroll it (_config.yml takes the others
  out of the tab order).
"""

from pathlib import Path

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

VENDOR = Path("_vendor/web")

THEME_MODE = (
    "if (!document.documentElement.dataset.mode) "
    "{ document.documentElement.dataset.mode = 'auto'; }"
)


def use_vendored_assets(app, config):
    config.nb_ipywidgets_js = {}   # the static explorers need none (tests/test_book_site.py)
    vendor = Path(app.confdir) / VENDOR
    if not (vendor / "versions.json").exists():
        logger.info("nnlab_site: no vendored MathJax; pages will load it from a CDN")
        return
    config.html_extra_path = [*config.html_extra_path, str(VENDOR)]
    # Sphinx prefixes relative script paths with _static/; "../" climbs back to the root.
    config.mathjax_path = "../mathjax/tex-mml-chtml.js"


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # The same inline script arrives once with filename None and once with "".
        name = getattr(script, "filename", script) or ""
        key = (str(name), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def number_exercise_bodies(app, doctree, docname):
    seen = {"exercise-content": 0, "solution-content": 0}
    for section in doctree.findall(nodes.section):
        for i, name in enumerate(section["ids"]):
            if name in seen:
                seen[name] += 1
                section["ids"][i] = f"{name}-{seen[name]}"


def add_stylesheet(app, config):
    config.html_static_path = [*config.html_static_path, str(Path(__file__).parent / "static")]


def setup(app):
    app.connect("config-inited", use_vendored_assets)
    app.connect("config-inited", add_stylesheet)
    app.add_css_file("nnlab.css")
    app.add_js_file("nnlab-sidebars.js")
    app.add_js_file("nnlab-solutions.js")
    app.add_js_file("nnlab-formulas.js")
    app.add_js_file(None, body=THEME_MODE, priority=1)
    app.connect("html-page-context", drop_duplicate_scripts, priority=999)
    app.connect("doctree-resolved", number_exercise_bodies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
