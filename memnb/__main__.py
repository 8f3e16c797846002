"""``python -m memnb``: the command line (see :mod:`memnb.cli`)."""

from .cli import main

raise SystemExit(main())
