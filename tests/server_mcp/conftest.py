from tests.server_mcp.support import http_fake, mcp_host  # noqa: F401

import pytest


@pytest.fixture(autouse=True, scope="module")
def _seed_protocol():
    """These tests read the answer from the send's reply (the seed-era synchronous send); under the
    latest spec the same turn streams, which the app's tests (tests/ui/views/test_tools.py) drive."""
    from tests.fixtures import mix_server as fixture_module

    # module scope (so it also covers the module-scoped mcp_host), hence a MonkeyPatch of its own
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fixture_module, "DEFAULT_PROTOCOL", "seed")
        yield
