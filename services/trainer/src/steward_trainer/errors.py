"""Errors of the trainer a caller can act on."""

from __future__ import annotations


class TrainerError(Exception):
    """Base of the trainer's errors."""


class DatasetNotFound(TrainerError):
    """A dataset version named by a run or a command does not exist."""


class EmptyDataset(TrainerError):
    """A dataset has no rows to export or train on."""


class CandidateNotFound(TrainerError):
    """A candidate id names no registered candidate of the tenant."""


class BaseModelUnavailable(TrainerError):
    """The packaged base model cannot be found or converted."""


class UnsupportedDatasetKind(TrainerError):
    """A training run was asked for a dataset layout it cannot train on."""


class AdapterConverterMissing(TrainerError):
    """llama.cpp's LoRA-to-GGUF converter is not installed where the settings say."""


class AdapterConversionFailed(TrainerError):
    """The converter could not turn a trained adapter into a GGUF adapter."""


class UnservableAdapterName(TrainerError):
    """A candidate's name cannot name a GGUF adapter file that the inference worker loads."""
