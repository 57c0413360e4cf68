"""Executes the python code blocks of the Markdown pages: used by the tests and by the site
build."""
