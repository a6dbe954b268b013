"""Honest training: purged walk-forward splits, fold runner (local or Dask), metrics,
cost-aware trading evaluation, the verdict in words, and model cards.

Entry point: :func:`core.training.pipeline.train`.
"""
