"""Parameter sweeps: many walk-forward backtests on Dask, and how far to trust the best one.

Entry point: :func:`core.sweep.session.run_sweep` (``scalpdesk sweep`` calls it).

* :mod:`core.sweep.space` — the TOML space file (grid / random / Optuna parameters);
* :mod:`core.sweep.context` — folds, the held-out test, P&L buckets, the signal source;
* :mod:`core.sweep.trial` — one trial through the real backtester (optionally retraining);
* :mod:`core.sweep.runner` / :mod:`core.sweep.search` — Dask pools and the search methods;
* :mod:`core.sweep.store` — the sweep directory: manifest, append-only ledger, results;
* :mod:`core.sweep.pbo`, :mod:`core.sweep.stability`, :mod:`core.sweep.verdict`,
  :mod:`core.sweep.analysis` — PBO by CSCV, stability, deflated Sharpe, the verdict;
* :mod:`core.sweep.report` — the HTML report.
"""
