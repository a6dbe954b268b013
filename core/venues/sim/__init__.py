"""The simulated venue: matching engine, Topstep rules, bar replay and a local gateway server.

``matching`` (orders, brackets, fills) · ``ledger`` (positions, trades, balances) · ``triggers``
(fill assumptions) · ``topstep`` (MLL, 15:10 CT flatten, contract caps) · ``replay`` (bars →
quotes and prints) · ``gateway`` (the ProjectX-compatible aiohttp server).
"""
