"""`python -m statuspage` is the same as the `statuspage` command."""

from statuspage.cli import main

main()
