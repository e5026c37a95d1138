"""Run the review service: `python -m steward_review`."""

from steward_review.app import main

main()
