"""Per-endpoint error codes of the ProjectX Gateway (topstepx-gateway.md §3–§4), as constants."""

from __future__ import annotations

# PlaceOrderErrorCode (§4.5)
PLACE_ACCOUNT_NOT_FOUND = 1
PLACE_REJECTED = 2
PLACE_INSUFFICIENT_FUNDS = 3
PLACE_ACCOUNT_VIOLATION = 4
PLACE_OUTSIDE_HOURS = 5
PLACE_CONTRACT_NOT_FOUND = 8
PLACE_CONTRACT_NOT_ACTIVE = 9

# ModifyOrderErrorCode (§4.6) / CancelOrderErrorCode (§4.7)
MOD_ACCOUNT_NOT_FOUND = 1
MOD_ORDER_NOT_FOUND = 2
MOD_REJECTED = 3

# ClosePositionErrorCode (§4.9)
CLOSE_ACCOUNT_NOT_FOUND = 1
CLOSE_POSITION_NOT_FOUND = 2
CLOSE_CONTRACT_NOT_FOUND = 3
CLOSE_CONTRACT_NOT_ACTIVE = 4
CLOSE_ORDER_REJECTED = 5

# PartialClosePositionErrorCode (§4.9)
PCLOSE_INVALID_SIZE = 5
PCLOSE_ORDER_REJECTED = 6

# LoginErrorCode (§3.1), ValidateErrorCode (§3.3)
LOGIN_USER_NOT_FOUND = 1
LOGIN_INVALID_CREDENTIALS = 3
VALIDATE_INVALID_SESSION = 1
VALIDATE_EXPIRED = 3

# Contract/searchById, Order/searchById
NOT_FOUND = 1

# RetrieveBarErrorCode (§4.4)
BARS_CONTRACT_NOT_FOUND = 1
BARS_UNIT_INVALID = 2
BARS_UNIT_NUMBER_INVALID = 3
BARS_LIMIT_INVALID = 4

# Messages observed live (§4.5, §5.3, §5.4); reproduced so clients can match on them.
MSG_TRAIL_ALIGN = "Invalid trail price. Price is not aligned to tick size."
MSG_TRAIL_MAX = "Trail Distance exceeds maximum (1000)"
MSG_TRAIL_UNSET = "Trail Distance not set."
MSG_TRAIL_NO_LAST = "Cannot trail without a last price"
MSG_PRICE_ALIGN = "Invalid price. Price is not aligned to tick size."
MSG_BRACKET_MODE = ("Brackets cannot be used with Position Brackets. "
                    "Please enable Auto OCO Brackets in your account settings.")
