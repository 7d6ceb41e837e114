"""``python -m desktop_app`` starts the same face as the ``snapfind`` command."""

from desktop_app.cli import main

raise SystemExit(main())
