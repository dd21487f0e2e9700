import pytest

from tests.shared_weights import shipped_models


@pytest.fixture(scope="session")
def models():
    """The shipped networks, as the engine takes them: explicit files and their sha256."""
    return shipped_models()
