"""The live engine: bars from prints, the same per-bar steps as the backtester, the order
manager (write-ahead, unknown outcomes resolved by tag), reconciliation and the kill switch."""
