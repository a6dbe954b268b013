"""The simulator fixture of the TopstepX client tests, shared by the engine tests."""

from tests.integration.topstepx.conftest import sim  # noqa: F401 - pytest fixture
