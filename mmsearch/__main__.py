"""`python -m mmsearch` runs the command line, like the `mmsearch` script."""

from .cli import main

main()
