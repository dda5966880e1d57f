"""``python -m sameday``: the same as the ``sameday`` command."""

from sameday.cli import run

run()
