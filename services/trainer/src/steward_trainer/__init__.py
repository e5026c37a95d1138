"""Steward feedback-trainer: datasets from corrections, LoRA runs, evaluation gate, monitoring."""

from steward_trainer.settings import TrainerSettings

__all__ = ["TrainerSettings"]
