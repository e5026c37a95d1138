"""Run the trainer service: `python -m steward_trainer`."""

from steward_trainer.app import main

main()
