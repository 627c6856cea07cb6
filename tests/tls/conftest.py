"""pytest settings for tests/tls (helpers live in tlsporch.py)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "testssl: runs testssl.sh (minutes): make tls-testssl")
