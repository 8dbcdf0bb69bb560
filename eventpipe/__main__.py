"""``python -m eventpipe`` is the ``eventpipe`` command."""

from eventpipe.cli import main

main()
