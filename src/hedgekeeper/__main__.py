"""``python -m hedgekeeper`` runs the command line."""

from hedgekeeper.cli import main

main()
