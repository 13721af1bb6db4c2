"""train: annotations -> models/ (skops + model cards), evaluation against a TF-IDF baseline.

``train_all`` backs ``csei train`` and ``evaluate_all`` backs ``csei eval``.
"""
from .evaluate import evaluate_all, format_report, train_all

__all__ = ["evaluate_all", "format_report", "train_all"]
