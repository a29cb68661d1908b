"""Sphinx configuration of the course site (`make book`; the sources are assembled by coursekit.book)."""

from pathlib import Path

project = "Deep learning, proved cell by cell"
author = "the course's authors"
copyright = "the course's authors (code: MIT licence)"

extensions = ["myst_nb"]
# The notebooks arrive executed (coursekit.executed keeps the run `make test` made): never run twice.
nb_execution_mode = "off"
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
# Lecture notebooks link to each other and to files outside the site; those links stay as text.
suppress_warnings = ["myst.header", "myst.xref_missing", "mystnb.unknown_mime_type",
                     "misc.highlighting_failure"]  # IPython shell escapes (`!cmd`) in code cells

html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {"show_navbar_depth": 1, "home_page_in_toc": True}
# Relative paths here are read from book/, but the static files are assembled with the sources.
html_static_path = [str(Path(__file__).resolve().parent.parent / "build" / "book-src" / "_static")]
# MathJax 2 from the instructor extra (copied to _static/mathjax), so formulas render offline.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
mathjax2_config = {"HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web",
                                "imageFont": None}}
