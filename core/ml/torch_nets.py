"""Neural network architectures (requirements §6). torch is imported lazily, inside
:func:`build_net`, so the core imports (and LightGBM works) without torch installed.

All nets map a batch to K logits. The feed-forward net takes ``(B, k)``; the sequence nets
take ``(B, W, k)`` — the last ``W`` bars, oldest first — and read out the last time step,
so every output depends only on bars at or before the bar being predicted (causal).
"""

from __future__ import annotations

import math
from typing import Any

ARCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "ff": {"hidden": [256, 128, 64], "dropout": 0.3},
    "lstm": {"hidden": [128, 64], "dense": 32, "dropout": 0.3},
    "tcn": {"channels": 32, "levels": 4, "kernel": 3, "dropout": 0.2},
    "transformer": {"d_model": 32, "heads": 4, "layers": 2, "ff": 64, "dropout": 0.2},
}


def build_net(kind: str, n_features: int, n_classes: int, arch: dict[str, Any]) -> Any:
    """Return an ``nn.Module`` for ``kind`` (``ff``, ``lstm``, ``tcn``, ``transformer``)."""
    import torch
    from torch import nn

    cfg = {**ARCH_DEFAULTS[kind], **arch}

    if kind == "ff":
        layers: list[nn.Module] = []
        width = n_features
        for h in cfg["hidden"]:
            layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(cfg["dropout"])]
            width = h
        layers.append(nn.Linear(width, n_classes))
        return nn.Sequential(*layers)

    if kind == "lstm":
        h1, h2 = cfg["hidden"]

        class LSTMNet(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.l1 = nn.LSTM(n_features, h1, batch_first=True)
                self.l2 = nn.LSTM(h1, h2, batch_first=True)
                self.drop = nn.Dropout(cfg["dropout"])
                self.head = nn.Sequential(nn.Linear(h2, cfg["dense"]), nn.ReLU(),
                                          nn.Dropout(cfg["dropout"]),
                                          nn.Linear(cfg["dense"], n_classes))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out, _ = self.l1(x)
                out, _ = self.l2(self.drop(out))
                return self.head(out[:, -1, :])

        return LSTMNet()

    if kind == "tcn":
        class CausalBlock(nn.Module):
            """Two dilated causal convolutions with a residual connection."""

            def __init__(self, cin: int, cout: int, dilation: int) -> None:
                super().__init__()
                k = cfg["kernel"]
                self.pad = (k - 1) * dilation  # left padding only: no look into the future
                self.c1 = nn.Conv1d(cin, cout, k, dilation=dilation)
                self.c2 = nn.Conv1d(cout, cout, k, dilation=dilation)
                self.drop = nn.Dropout(cfg["dropout"])
                self.down = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                y = self.drop(torch.relu(self.c1(nn.functional.pad(x, (self.pad, 0)))))
                y = self.drop(torch.relu(self.c2(nn.functional.pad(y, (self.pad, 0)))))
                return torch.relu(y + self.down(x))

        class TCN(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                ch = cfg["channels"]
                self.blocks = nn.Sequential(*[
                    CausalBlock(n_features if i == 0 else ch, ch, 2 ** i)
                    for i in range(cfg["levels"])])
                self.head = nn.Linear(ch, n_classes)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                y = self.blocks(x.transpose(1, 2))  # (B, C, W)
                return self.head(y[:, :, -1])

        return TCN()

    if kind == "transformer":
        d = cfg["d_model"]

        class PositionalEncoding(nn.Module):
            """Fixed sinusoidal encoding of the position inside the window."""

            def __init__(self, max_len: int = 4096) -> None:
                super().__init__()
                pos = torch.arange(max_len).unsqueeze(1)
                div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
                pe = torch.zeros(max_len, d)
                pe[:, 0::2] = torch.sin(pos * div)
                pe[:, 1::2] = torch.cos(pos * div)[:, : d // 2]
                self.register_buffer("pe", pe)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x + self.pe[: x.shape[1]].unsqueeze(0)

        class TransformerNet(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inp = nn.Linear(n_features, d)
                self.pos = PositionalEncoding()
                layer = nn.TransformerEncoderLayer(d, cfg["heads"], cfg["ff"], cfg["dropout"],
                                                   batch_first=True)
                self.enc = nn.TransformerEncoder(layer, cfg["layers"],
                                                 enable_nested_tensor=False)
                self.head = nn.Linear(d, n_classes)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                w = x.shape[1]
                # Causal mask: position t attends to positions <= t only.
                mask = torch.triu(torch.full((w, w), float("-inf"), device=x.device), 1)
                y = self.enc(self.pos(self.inp(x)), mask=mask)
                return self.head(y[:, -1, :])

        return TransformerNet()

    raise ValueError(f"unknown net kind {kind!r}")
