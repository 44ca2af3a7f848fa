from tests.server_mcp.support import http_fake, mcp_host  # noqa: F401
