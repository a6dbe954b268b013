"""Torch learners (ff, lstm, tcn, transformer) behind the :class:`~core.ml.base.Model` protocol.

Training follows requirements §6: AdamW, a ReduceLROnPlateau scheduler on validation loss,
early stopping with patience, gradient clipping at 1.0, class-weighted cross-entropy or focal
loss, fixed seeds. With ``checkpoint_dir`` set, every epoch writes ``checkpoint.pt`` (model,
optimizer, scheduler, epoch, early-stopping state) atomically; ``resume=True`` continues from
it. Features are standardised by a ``core.features.Normalizer`` fitted on the training rows
only (NaN → 0 after scaling, i.e. "the training mean").
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelError
from core.ml.base import (SEQUENCE_KINDS, ClassMap, FitInfo, Progress, check_xy, class_weights,
                          read_json, write_json)
from core.ml.torch_nets import ARCH_DEFAULTS, build_net


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the install
        raise ModelError("this model kind needs PyTorch, which is not installed",
                         hint="pip install 'scalpdesk[deep]' or use --model lightgbm") from None
    return torch


def resolve_device(device: str) -> str:
    """``cpu`` or ``cuda``; asking for CUDA without a GPU is a clear error, not a fallback."""
    torch = _torch()
    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(f"device {device!r} requested but CUDA is not available here",
                             hint="use --device cpu (the default) or run on a machine with a GPU")
        return device
    raise ModelError(f"unknown device {device!r}", hint="use cpu or cuda")


class TorchModel:
    """A torch net trained with early stopping; ``kind`` picks the architecture."""

    def __init__(self, kind: str, *, arch: dict[str, Any] | None = None, window: int = 32,
                 epochs: int = 50, batch_size: int = 512, lr: float = 1e-3,
                 weight_decay: float = 1e-4, patience: int = 10, loss: str = "weighted",
                 focal_gamma: float = 2.0, seed: int = 7, num_threads: int = 1,
                 device: str = "cpu", checkpoint_dir: Path | None = None,
                 resume: bool = False, init_from: TorchModel | None = None) -> None:
        if kind not in ARCH_DEFAULTS:
            raise ModelError(f"unknown torch model kind {kind!r}",
                             hint=f"use one of {', '.join(ARCH_DEFAULTS)}")
        if loss not in ("weighted", "focal", "plain"):
            raise ModelError(f"unknown loss {loss!r}", hint="use weighted, focal or plain")
        self.kind = kind
        self.arch = {**ARCH_DEFAULTS[kind], **(arch or {})}
        self.window = int(window) if kind in SEQUENCE_KINDS else 1
        self.epochs, self.batch_size, self.lr = int(epochs), int(batch_size), float(lr)
        self.weight_decay, self.patience = float(weight_decay), int(patience)
        self.loss, self.focal_gamma = loss, float(focal_gamma)
        self.seed, self.num_threads, self.device = int(seed), int(num_threads), device
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.resume = resume
        self.init_from = init_from  #: warm start (incremental update): weights + scaler
        self.classes = np.empty(0, dtype=np.int64)
        self.scaler: Any = None  # core.features.Normalizer
        self.net: Any = None
        self._ring: np.ndarray | None = None
        self._ring_n = 0

    # ------------------------------------------------------------------ batching
    def _windows(self, torch: Any, Xt: Any, idx: Any) -> Any:
        """Rows ``idx`` (1-D tensor) as model input: (B, k) or (B, W, k) oldest first.

        Rows before the first one are clamped to row 0 (repeat-padding), so a window never
        reaches past the array it came from.
        """
        if self.window == 1:
            return Xt[idx]
        offs = torch.arange(-self.window + 1, 1, device=Xt.device)
        return Xt[(idx.unsqueeze(1) + offs).clamp_min(0)]

    def _prepare(self, torch: Any, X: np.ndarray) -> Any:
        assert self.scaler is not None
        return torch.from_numpy(self.scaler.transform(X)).to(self.device)

    # ------------------------------------------------------------------ training
    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, *,
            progress: Progress = None) -> FitInfo:
        """Train with early stopping on validation loss (see module docstring)."""
        torch = _torch()
        check_xy(X, y, f"{self.kind} fit")
        check_xy(X_val, y_val, f"{self.kind} validation")
        self.device = resolve_device(self.device)
        torch.manual_seed(self.seed)
        np.random.seed(self.seed)
        torch.set_num_threads(self.num_threads)
        started = time.perf_counter()

        warm = self.init_from
        cmap = ClassMap(tuple(int(c) for c in warm.classes)) if warm else ClassMap.from_labels(y)
        self.classes = np.asarray(cmap.values, dtype=np.int64)
        yi, yvi = cmap.to_index(y), cmap.to_index(y_val)
        from core.features import Normalizer
        # A warm start keeps the old scaler: the weights were learned on its scale.
        self.scaler = warm.scaler if warm else Normalizer().fit(X)
        Xt, Xv = self._prepare(torch, X), self._prepare(torch, X_val)
        yt = torch.from_numpy(yi).to(self.device)
        yv = torch.from_numpy(yvi).to(self.device)
        self.net = build_net(self.kind, X.shape[1], cmap.n, self.arch).to(self.device)
        if warm is not None:
            self.net.load_state_dict(warm.net.state_dict())
        weight = None
        if self.loss in ("weighted", "focal"):
            weight = torch.tensor(class_weights(yi, cmap.n), dtype=torch.float32,
                                  device=self.device)
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=3)
        state = {"epoch": -1, "best_loss": float("inf"), "bad": 0, "history": [],
                 "best_state": None, "best_epoch": -1}
        if self.resume:
            state = self._load_checkpoint(torch, opt, sched, state)
        for epoch in range(state["epoch"] + 1, self.epochs):
            self.net.train()
            # One generator per epoch: a resumed run shuffles exactly like an unbroken one.
            gen = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            perm = torch.randperm(len(yt), generator=gen).to(self.device)
            for start in range(0, len(perm), self.batch_size):
                idx = perm[start: start + self.batch_size]
                if len(idx) < 2 and self.kind == "ff":
                    continue  # batch norm needs two rows
                logits = self.net(self._windows(torch, Xt, idx))
                loss = self._loss(torch, logits, yt[idx], weight)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
                opt.step()
            val_loss = self._eval_loss(torch, Xv, yv, weight)
            sched.step(val_loss)
            state["history"].append(val_loss)
            state["epoch"] = epoch
            if val_loss < state["best_loss"] - 1e-6:
                state.update(best_loss=val_loss, bad=0, best_epoch=epoch,
                             best_state={k: v.detach().clone()
                                         for k, v in self.net.state_dict().items()})
            else:
                state["bad"] += 1
            self._save_checkpoint(torch, opt, sched, state)
            if progress is not None:
                progress((epoch + 1) / self.epochs)
            if state["bad"] >= self.patience:
                break
        if state["best_state"] is not None:
            self.net.load_state_dict(state["best_state"])
        self.net.eval()
        return FitInfo(best_iteration=int(state["best_epoch"]) + 1,
                       iterations=int(state["epoch"]) + 1,
                       best_val_loss=float(state["best_loss"]), history=list(state["history"]),
                       seconds=time.perf_counter() - started)

    def _loss(self, torch: Any, logits: Any, target: Any, weight: Any) -> Any:
        if self.loss == "focal":
            logp = torch.log_softmax(logits, dim=1)
            lp = logp.gather(1, target.unsqueeze(1)).squeeze(1)
            w = weight[target] if weight is not None else 1.0
            return (-w * (1 - lp.exp()) ** self.focal_gamma * lp).mean()
        return torch.nn.functional.cross_entropy(logits, target, weight=weight)

    def _eval_loss(self, torch: Any, Xv: Any, yv: Any, weight: Any) -> float:
        self.net.eval()
        total, n = 0.0, 0
        with torch.inference_mode():
            for start in range(0, len(yv), 4096):
                idx = torch.arange(start, min(start + 4096, len(yv)), device=self.device)
                loss = self._loss(torch, self.net(self._windows(torch, Xv, idx)), yv[idx], weight)
                total += float(loss) * len(idx)
                n += len(idx)
        return total / max(n, 1)

    # ------------------------------------------------------------------ checkpoints
    def _ckpt_path(self) -> Path | None:
        return self.checkpoint_dir / "checkpoint.pt" if self.checkpoint_dir else None

    def _save_checkpoint(self, torch: Any, opt: Any, sched: Any, state: dict[str, Any]) -> None:
        path = self._ckpt_path()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".pt.tmp")
        torch.save({"model": self.net.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "state": state,
                    "rng": torch.get_rng_state(),
                    "kind": self.kind, "classes": self.classes.tolist()}, tmp)
        os.replace(tmp, path)  # a crash mid-write never leaves a torn checkpoint

    def _load_checkpoint(self, torch: Any, opt: Any, sched: Any,
                         state: dict[str, Any]) -> dict[str, Any]:
        path = self._ckpt_path()
        if path is None or not path.is_file():
            if path is None:
                raise ModelError("resume=True needs a checkpoint_dir",
                                 hint="pass the directory the first run checkpointed into")
            return state  # nothing saved yet: start from scratch
        ck = torch.load(path, map_location=self.device, weights_only=False)
        if ck.get("kind") != self.kind or ck.get("classes") != self.classes.tolist():
            raise ModelError(f"{path}: checkpoint is for a {ck.get('kind')} model with classes "
                             f"{ck.get('classes')}, not this {self.kind} run",
                             hint="delete the checkpoint or point checkpoint_dir elsewhere")
        self.net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        torch.set_rng_state(ck["rng"])  # dropout masks continue where they stopped
        return ck["state"]

    # ------------------------------------------------------------------ inference
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities n×K (softmax of the logits), batched."""
        torch = _torch()
        if self.net is None:
            raise ModelError(f"{self.kind} model is not trained")
        torch.set_num_threads(self.num_threads)
        self.net.eval()
        Xt = self._prepare(torch, np.asarray(X, dtype=np.float32))
        out = np.empty((len(X), len(self.classes)), dtype=np.float64)
        with torch.inference_mode():
            for start in range(0, len(X), 4096):
                idx = torch.arange(start, min(start + 4096, len(X)), device=self.device)
                p = torch.softmax(self.net(self._windows(torch, Xt, idx)), dim=1)
                out[start: start + len(idx)] = p.cpu().numpy()
        return out

    def predict_row(self, x: np.ndarray) -> np.ndarray:
        """Streaming inference: push one raw feature row, predict from the last W rows.

        Before W rows were pushed the window is repeat-padded with the first row, exactly
        as :meth:`predict_proba` does at the start of an array.
        """
        torch = _torch()
        assert self.scaler is not None
        if self._ring is None:
            # One bar is tiny work: extra intra-op threads only add wake-up latency.
            torch.set_num_threads(self.num_threads)
        z = self.scaler.transform(x.reshape(1, -1))[0]
        if self._ring is None:
            self._ring = np.repeat(z[None, :], self.window, axis=0)
        else:
            self._ring[:-1] = self._ring[1:]
            self._ring[-1] = z
        self._ring_n += 1
        with torch.inference_mode():
            inp = torch.from_numpy(self._ring if self.window > 1 else self._ring[-1:])
            inp = inp.unsqueeze(0) if self.window > 1 else inp
            return torch.softmax(self.net(inp.to(self.device)), dim=1)[0].cpu().numpy()

    def reset_stream(self) -> None:
        """Forget the streaming window (e.g. at a session break)."""
        self._ring, self._ring_n = None, 0

    # ------------------------------------------------------------------ artifacts
    def config(self) -> dict[str, Any]:
        """Everything needed to rebuild the net (JSON-ready)."""
        return {"kind": self.kind, "arch": self.arch, "window": self.window,
                "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "weight_decay": self.weight_decay, "patience": self.patience, "loss": self.loss,
                "focal_gamma": self.focal_gamma, "seed": self.seed,
                "num_threads": self.num_threads, "classes": self.classes.tolist()}

    def save(self, directory: Path) -> None:
        """``weights.pt`` (state dict), ``model_config.json``, ``scaler.json``."""
        torch = _torch()
        if self.net is None or self.scaler is None:
            raise ModelError(f"cannot save an untrained {self.kind} model")
        directory = Path(directory)
        torch.save({k: v.cpu() for k, v in self.net.state_dict().items()}, directory / "weights.pt")
        write_json(directory / "model_config.json",
                   {**self.config(), "num_features": len(self.scaler.mean)})
        write_json(directory / "scaler.json", self.scaler.to_dict())

    @classmethod
    def load(cls, directory: Path, device: str = "cpu") -> TorchModel:
        """Inverse of :meth:`save` (onto ``device``)."""
        torch = _torch()
        directory = Path(directory)
        cfg = read_json(directory / "model_config.json")
        m = cls(cfg["kind"], arch=cfg["arch"], window=cfg["window"], epochs=cfg["epochs"],
                batch_size=cfg["batch_size"], lr=cfg["lr"], weight_decay=cfg["weight_decay"],
                patience=cfg["patience"], loss=cfg["loss"], focal_gamma=cfg["focal_gamma"],
                seed=cfg["seed"], num_threads=cfg["num_threads"], device=device)
        m.device = resolve_device(device)
        m.classes = np.asarray(cfg["classes"], dtype=np.int64)
        from core.features import Normalizer
        m.scaler = Normalizer.from_dict(read_json(directory / "scaler.json"))
        m.net = build_net(m.kind, cfg["num_features"], len(m.classes), m.arch)
        path = directory / "weights.pt"
        if not path.is_file():
            raise ModelError(f"{path}: missing", hint="retrain the model with `scalpdesk train`")
        m.net.load_state_dict(torch.load(path, map_location=m.device, weights_only=True))
        m.net.to(m.device).eval()
        return m
