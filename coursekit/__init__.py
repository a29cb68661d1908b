"""coursekit: the plumbing shared by the course's notebooks.

Modules, each small and named by what it does:
``device`` (where to compute, seeding), ``mode`` (quick vs full), ``data`` (verified
datasets), ``plot`` (image grids, live curves, sheets), ``train`` (fit/evaluate),
``statefarm`` (the Kaggle distracted-driver images), ``results`` (headline figures for
``make full``), ``grading`` (exercise checks).
Importing coursekit changes nothing: no seeding, no flags, no downloads.
"""

from .data import (
    DatasetUnavailable,
    analogy_questions,
    fetch,
    gutenberg,
    imagenet_resnet18,
    mnist,
    mnist_tensors,
    movielens,
    text,
    wordsim353,
)
from .data import status as data_status
from .device import describe_device, pick_device, seed_everything
from .mode import by_mode, current_mode, is_full, start_lesson
from .plot import LivePlot, sheet, show_images
from .results import record
from .statefarm import StateFarmImages, statefarm_index, statefarm_tensors
from .train import TensorBatches, accuracy, cached_or_train, evaluate, fit

__all__ = [
    "DatasetUnavailable", "analogy_questions", "fetch", "gutenberg", "imagenet_resnet18", "mnist", "mnist_tensors", "movielens",
    "text", "wordsim353", "data_status",
    "describe_device", "pick_device", "seed_everything",
    "by_mode", "current_mode", "is_full", "start_lesson",
    "LivePlot", "sheet", "show_images",
    "record",
    "StateFarmImages", "statefarm_index", "statefarm_tensors",
    "TensorBatches", "accuracy", "cached_or_train", "evaluate", "fit",
]
