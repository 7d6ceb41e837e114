"""``python -m desktop_app`` starts the same face as the ``snapfind-cli`` command."""

from desktop_app.cli import run

run()
