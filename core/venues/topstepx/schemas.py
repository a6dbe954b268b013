"""Wire facts of the ProjectX Gateway: paths, hub method names, per-endpoint error codes.

Each error code is classified as ``retry`` (transient: safe to retry a read, reconcile a
mutation first), ``reject`` (the request itself is wrong: never retry) or ``fatal`` (the
account/auth state makes trading impossible: halt). Source: topstepx-gateway.md §3–§4.
"""

from __future__ import annotations

from typing import Final

RETRY: Final = "retry"
REJECT: Final = "reject"
FATAL: Final = "fatal"
RELOGIN: Final = "relogin"

# ----------------------------------------------------------------------------- REST paths
LOGIN_KEY = "Auth/loginKey"
VALIDATE = "Auth/validate"
LOGOUT = "Auth/logout"
ACCOUNT_SEARCH = "Account/search"
CONTRACT_SEARCH = "Contract/search"
CONTRACT_BY_ID = "Contract/searchById"
CONTRACT_AVAILABLE = "Contract/available"
RETRIEVE_BARS = "History/retrieveBars"
ORDER_PLACE = "Order/place"
ORDER_MODIFY = "Order/modify"
ORDER_CANCEL = "Order/cancel"
ORDER_SEARCH = "Order/search"
ORDER_SEARCH_OPEN = "Order/searchOpen"
ORDER_BY_ID = "Order/searchById"
ORDER_QUERY_V2 = "Order/v2/query"
POSITION_SEARCH_OPEN = "Position/searchOpen"
POSITION_CLOSE = "Position/closeContract"
POSITION_PARTIAL_CLOSE = "Position/partialCloseContract"
TRADE_SEARCH = "Trade/search"
PING = "Status/ping"

#: Calls that change state at the venue: never retried blindly.
MUTATIONS: Final = frozenset({ORDER_PLACE, ORDER_MODIFY, ORDER_CANCEL, POSITION_CLOSE,
                              POSITION_PARTIAL_CLOSE})
#: Calls that do not need the Bearer header.
UNAUTHENTICATED: Final = frozenset({LOGIN_KEY})
#: Calls counted against the History bucket (50/30 s); everything else uses 200/60 s.
HISTORY_PATHS: Final = frozenset({RETRIEVE_BARS})

# --------------------------------------------------------------------- per-endpoint codes
# code -> (name, class). Unknown codes are classified by the endpoint's default below.
_LOGIN = {1: ("UserNotFound", FATAL), 2: ("PasswordVerificationFailed", FATAL),
          3: ("InvalidCredentials", FATAL), 4: ("AppNotFound", FATAL),
          5: ("AppVerificationFailed", FATAL), 6: ("InvalidDevice", FATAL),
          7: ("AgreementsNotSigned", FATAL), 8: ("UnknownError", RETRY),
          9: ("ApiSubscriptionNotFound", FATAL), 10: ("ApiKeyAuthenticationDisabled", FATAL)}
_VALIDATE = {1: ("InvalidSession", RELOGIN), 2: ("SessionNotFound", RELOGIN),
             3: ("ExpiredToken", RELOGIN), 4: ("UnknownError", RETRY)}
_LOGOUT = {1: ("InvalidSession", REJECT), 2: ("UnknownError", RETRY)}
_PLACE = {1: ("AccountNotFound", REJECT), 2: ("OrderRejected", REJECT),
          3: ("InsufficientFunds", REJECT), 4: ("AccountViolation", FATAL),
          5: ("OutsideTradingHours", REJECT), 6: ("OrderPending", RETRY),
          7: ("UnknownError", RETRY), 8: ("ContractNotFound", REJECT),
          9: ("ContractNotActive", REJECT), 10: ("AccountRejected", FATAL)}
_MODIFY = {1: ("AccountNotFound", REJECT), 2: ("OrderNotFound", REJECT), 3: ("Rejected", REJECT),
           4: ("Pending", RETRY), 5: ("UnknownError", RETRY), 6: ("AccountRejected", FATAL),
           7: ("ContractNotFound", REJECT)}
_CANCEL = {1: ("AccountNotFound", REJECT), 2: ("OrderNotFound", REJECT), 3: ("Rejected", REJECT),
           4: ("Pending", RETRY), 5: ("UnknownError", RETRY), 6: ("AccountRejected", FATAL)}
_CLOSE = {1: ("AccountNotFound", REJECT), 2: ("PositionNotFound", REJECT),
          3: ("ContractNotFound", REJECT), 4: ("ContractNotActive", REJECT),
          5: ("OrderRejected", REJECT), 6: ("OrderPending", RETRY), 7: ("UnknownError", RETRY),
          8: ("AccountRejected", FATAL)}
_PARTIAL = {1: ("AccountNotFound", REJECT), 2: ("PositionNotFound", REJECT),
            3: ("ContractNotFound", REJECT), 4: ("ContractNotActive", REJECT),
            5: ("InvalidCloseSize", REJECT), 6: ("OrderRejected", REJECT),
            7: ("OrderPending", RETRY), 8: ("UnknownError", RETRY), 9: ("AccountRejected", FATAL)}
_BARS = {1: ("ContractNotFound", REJECT), 2: ("UnitInvalid", REJECT),
         3: ("UnitNumberInvalid", REJECT), 4: ("LimitInvalid", REJECT)}
_NOT_FOUND = {1: ("NotFound", REJECT)}

ERROR_CODES: Final[dict[str, dict[int, tuple[str, str]]]] = {
    LOGIN_KEY: _LOGIN, VALIDATE: _VALIDATE, LOGOUT: _LOGOUT, ORDER_PLACE: _PLACE,
    ORDER_MODIFY: _MODIFY, ORDER_CANCEL: _CANCEL, POSITION_CLOSE: _CLOSE,
    POSITION_PARTIAL_CLOSE: _PARTIAL, RETRIEVE_BARS: _BARS, CONTRACT_BY_ID: _NOT_FOUND,
    ORDER_BY_ID: _NOT_FOUND,
}


def classify(path: str, code: int) -> tuple[str, str]:
    """Name and class (retry/reject/fatal/relogin) of ``errorCode`` ``code`` from ``path``."""
    table = ERROR_CODES.get(path, {})
    if code in table:
        return table[code]
    # An unknown code on an endpoint documented as "only 0": treat as a rejection, never
    # as retryable (retrying an unexplained failure could duplicate a mutation).
    return (f"code{code}", REJECT)


# ------------------------------------------------------------------------------ hubs
USER_EVENTS: Final = ("GatewayUserAccount", "GatewayUserOrder", "GatewayUserPosition",
                      "GatewayUserTrade")
MARKET_EVENTS: Final = ("GatewayQuote", "GatewayTrade", "GatewayDepth")
LOGOUT_EVENT: Final = "GatewayLogout"

SUB_ACCOUNTS = ("SubscribeAccounts", "UnsubscribeAccounts")
SUB_ORDERS = ("SubscribeOrders", "UnsubscribeOrders")
SUB_POSITIONS = ("SubscribePositions", "UnsubscribePositions")
SUB_TRADES = ("SubscribeTrades", "UnsubscribeTrades")
SUB_QUOTES = ("SubscribeContractQuotes", "UnsubscribeContractQuotes")
SUB_MARKET_TRADES = ("SubscribeContractTrades", "UnsubscribeContractTrades")
SUB_DEPTH = ("SubscribeContractMarketDepth", "UnsubscribeContractMarketDepth")

# DomType codes of depth rows (§5.1)
DOM_ASK, DOM_BID, DOM_BEST_ASK, DOM_BEST_BID, DOM_TRADE, DOM_RESET = 1, 2, 3, 4, 5, 6
DOM_NEW_BEST_BID, DOM_NEW_BEST_ASK = 9, 10
# Side / type / status / position codes: see codes.py (the only table of them).
