"""Sphinx extension of the nnlab book: label the bibliography as the text cites it.

The chapters cite author and year, "[Rumelhart et al., 1986]" (``bibtex_reference_style:
author_year``), but pybtex's default style labels the list by initials, "[RHW86]", so a
reader could not find a citation in the list but by following its link. The style
``author_year`` registered here is pybtex's ``alpha`` (same entries, same order) with
labels written the way the citations are: one or two surnames, or the first and "et al.",
then the year; two entries of the same label get "a" and "b" after the year.
"""

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels import BaseLabelStyle


def surname(person):
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


def author_year(entry):
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [surname(p) for p in people]
    if len(names) > 2:
        names = [f"{names[0]} et al."]
    return f"{' and '.join(names) or entry.key}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = [author_year(entry) for entry in sorted_entries]
        total, seen = Counter(labels), Counter()
        for label in labels:
            if total[label] == 1:
                yield label
            else:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label]]
                seen[label] += 1


class AuthorYearStyle(AlphaStyle):
    default_label_style = "author_year"


def setup(app):
    register_plugin("pybtex.style.labels", "author_year", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
