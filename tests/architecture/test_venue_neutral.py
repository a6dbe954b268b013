"""The domain is venue-neutral: no gateway codes in core/domain, and wire layers convert through
their code tables (issue 9; ARCHITECTURE.md "no gateway codes here")."""

from __future__ import annotations

import ast
from pathlib import Path

from core.domain import OrderStatus, OrderType, PositionType, Side

ROOT = Path(__file__).resolve().parents[2]
#: Modules that put ProjectX codes on the wire or read them from it. Each must go through its
#: code table, never ``int(x.side)``: the domain's values are not the gateway's numbers.
WIRE_LAYERS = ("core/venues/topstepx", "core/venues/sim/gateway")


def test_side_is_signed_and_owns_no_projectx_code() -> None:
    assert {int(s) for s in Side} == {1, -1}
    assert Side.BUY * 3 == 3 and Side.SELL * 3 == -3 and Side.BUY.opposite is Side.SELL
    # ProjectX OrderSide: 0 Bid (buy), 1 Ask (sell). Neither code may mean the same here.
    assert Side.BUY != 0 and Side.SELL != 1


def test_type_status_and_position_enums_carry_names_not_numbers() -> None:
    for enum in (OrderType, OrderStatus, PositionType):
        for member in enum:
            assert isinstance(member.value, str) and not member.value.isdigit(), member
            assert all(member != n for n in range(-2, 12)), f"{member!r} equals an integer code"


def test_domain_declares_no_integer_enums_besides_side() -> None:
    found = []
    for path in sorted((ROOT / "core/domain").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", getattr(b, "attr", "")) in ("IntEnum", "IntFlag")
                    for b in node.bases):
                found.append(node.name)
    assert found == ["Side"], f"integer enums in core/domain (gateway codes?): {found}"


def test_wire_layers_never_send_an_enum_as_its_int() -> None:
    bad = []
    for pkg in WIRE_LAYERS:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "int" \
                        and node.args and isinstance(node.args[0], ast.Attribute) \
                        and node.args[0].attr in ("side", "type", "status", "stop_type"):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, "use the code tables (codes.py / wire.py), not int(enum):\n" + "\n".join(bad)

