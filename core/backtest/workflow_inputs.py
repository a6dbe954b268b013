"""The backtest workflow's inputs: bars, signals, and the guard that keeps a model's
training data from passing for evidence (moved from console/cli/backtest.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.backtest.workflow_io import Output

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def load_bars(data: str, bar: str | None, *, model_bar: int | None = None,
              model_name: str | None = None) -> tuple[pd.DataFrame, float]:
    """Bars from a file/directory (core.datasets.readers) or a catalog root such as ``MES``.

    The bar size of a catalog root is ``bar``, else the model's, else the only size held
    (core.datasets.bars.choose_bar); a file's size is its own and must agree with both.

    Raises:
        DataError: No bars, or a bar size that disagrees with ``bar`` or the model.
        FileNotFoundError: ``data`` looks like a path that does not exist.
    """
    from core.datasets.bars import check_file_bar, choose_bar, looks_like_path
    from core.errors import DataError

    p = Path(data)
    if p.exists():
        from core.datasets.readers import read_bars

        results = read_bars(p)
        if not results:
            raise DataError(f"{p}: no bars found", hint="point --data at a bar file or directory")
        check_file_bar(int(results[0].bar_seconds), bar, source=str(p), model_bar=model_bar,
                       model_name=model_name)
        if len(results) > 1:
            import pandas as pd

            frame = pd.concat([r.frame for r in results], ignore_index=True)
            frame = frame.sort_values("timestamp", kind="stable").drop_duplicates("timestamp")
            frame = frame.reset_index(drop=True)
        else:
            frame = results[0].frame
        return frame, float(results[0].bar_seconds)
    if looks_like_path(data):
        raise FileNotFoundError(2, "no such file", data)
    from core.datasets.catalog import Catalog

    cat, root = Catalog(), data.upper()
    seconds = choose_bar(cat.bar_sizes(root), bar, root=root, where=str(cat.root),
                         model_bar=model_bar, model_name=model_name)
    return cat.load(root, seconds), float(seconds)


def make_signals(bars: pd.DataFrame, strategy: str | None, signals: Path | None,
                 model: str | None, seed: int, out: Output, in_sample: bool = False) -> Any:
    """The run's Signals from exactly one of a built-in strategy, a signals file or a model.

    Raises:
        ConfigError: Not exactly one source, or every bar lies in the model's training data.
    """
    from core.backtest import Signals
    from core.errors import ConfigError
    from core.strategy import builtin_signals

    chosen = [x for x in (strategy, signals, model) if x]
    if len(chosen) != 1:
        raise ConfigError("choose exactly one of --strategy, --signals, --model",
                          hint="e.g. --strategy sma-cross, or --signals preds.parquet")
    if strategy:
        return builtin_signals(strategy, bars, seed=seed)
    if signals:
        import pandas as pd

        frame = pd.read_parquet(signals) if signals.suffix == ".parquet" else pd.read_csv(signals)
        return Signals.from_frame(bars, frame, name=signals.name)
    from core.strategy.model import model_signals

    with out.stage(f"predicting with {model}") as prog:
        sig = model_signals(bars, str(model), progress=prog)
    return guard_in_sample(bars, sig, str(model), in_sample, out)


def guard_in_sample(bars: pd.DataFrame, sig: Any, model: str, in_sample: bool,
                    out: Output) -> Any:
    """Never let a model's training data pass for a backtest (the second-worst outcome).

    Bars the saved model was fitted, stopped or calibrated on get no signals unless the user
    asks for them with --in-sample, and then the verdict says it is not evidence.
    """
    import pandas as pd

    from core.errors import ConfigError
    from core.strategy.model import drop_in_sample, in_sample_mask, model_training_span

    span = model_training_span(model)
    mask = in_sample_mask(bars, span)
    if not mask.any():
        return sig
    first, oos = (pd.Timestamp(x, tz="UTC").strftime("%Y-%m-%d %H:%M") for x in span)
    share = f"{int(mask.sum()):,} of {len(bars):,} bars ({mask.mean():.0%})"
    if in_sample:
        out.say(f"warning: {share} lie in model {model}'s training data ({first} → {oos} UTC); "
                "results on them are in-sample and prove nothing")
        return replace(sig, name=f"{sig.name} (IN-SAMPLE)")
    if mask.all():
        raise ConfigError(
            f"every bar of --data lies in model {model}'s training data ({first} → {oos} UTC): "
            "a backtest there is in-sample and proves nothing",
            hint="backtest on bars after the model's holdout start, or pass --in-sample to see "
                 "the (meaningless) in-sample result anyway")
    out.say(f"note: {share} lie in model {model}'s training data ({first} → {oos} UTC) and get "
            "no signals; only later bars are traded (--in-sample to include them)")
    return drop_in_sample(sig, mask)


def no_signal_spans(bars: pd.DataFrame, model: str | None, in_sample: bool
                    ) -> tuple[tuple[int, int, str], ...]:
    """The model's training span inside the bars, for the report to shade and label."""
    if not model:
        return ()
    import numpy as np

    from core.strategy.model import in_sample_mask, model_training_span

    mask = in_sample_mask(bars, model_training_span(model))
    if not mask.any():
        return ()
    idx = np.flatnonzero(mask)
    ts = bars["timestamp"].to_numpy(np.int64)
    label = ("model's training data: traded (--in-sample), proves nothing" if in_sample
             else "model's training data: no signals (out-of-sample only)")
    return ((int(ts[idx[0]]), int(ts[idx[-1]]), label),)


def why_no_trades(sig: Any, prof: Any) -> str:
    """Why a run took no trades, with the fix (the first question after "0 trades")."""
    import numpy as np

    d = np.asarray(sig.direction)
    c = np.asarray(sig.confidence, dtype=float)
    floor = float(prof.risk.min_confidence)
    directional = d != 0
    if not directional.any():
        return "no bar carries a long or short signal (check the signals or the model's span)"
    if not (directional & (c >= floor)).any():
        best = float(c[directional].max())
        low = f"{max(0.34, np.floor(best * 100) / 100 - 0.01):.2f}"
        return (f"no signal reached the {floor:.0%} confidence floor (highest {best:.0%}); to "
                f"trade lower-confidence signals in this run pass --min-confidence {low}, or copy "
                f"the profile and lower its floor and first sizing step: "
                f"scalpdesk profile new mine --from {prof.name}; "
                f"scalpdesk profile set mine risk.min_confidence {low}; scalpdesk profile set mine "
                f"'risk.confidence_steps[0].min_confidence' {low}")
    return "signals passed the confidence floor but the risk rules refused every entry (above)"
