"""Run the indexer service: `python -m steward_indexer`."""

from steward_indexer.app import main

main()
