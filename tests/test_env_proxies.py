"""Clients read the proxy settings only when some are set (httpx walks the whole environment for every client it
builds, and a fleet builds one per site); set, they are honoured as before."""

from __future__ import annotations

import sys

import pytest

from aimo_cli import tls
from aimo_cli.wordpress.client import RestRoot, WordPressClient
from aimo_cli.transport import DirectTransport


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="elsewhere the OS proxy settings are always read")
def test_no_proxy_variable_means_no_environment_walk(monkeypatch):
    for name in tls._PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    assert tls.env_proxies() is False
    client = WordPressClient(RestRoot.parse("https://blog.example/wp-json/"), "u", "p p p p p p")
    assert isinstance(client._transport, DirectTransport)  # no httpx client at all, so no environment walk
    client.close()


@pytest.mark.parametrize("name", ["https_proxy", "HTTP_PROXY", "ALL_PROXY"])
def test_a_proxy_variable_is_honoured(monkeypatch, name):
    monkeypatch.setenv(name, "http://127.0.0.1:3128")
    assert tls.env_proxies() is True
    client = WordPressClient(RestRoot.parse("https://blog.example/wp-json/"), "u", "p p p p p p")
    try:
        http = client._transport.client  # an httpx client picks the transport, proxy or not, as before
        assert http.trust_env is True
        assert any(t is not None for t in http._mounts.values())  # a proxy transport is mounted, as before
    finally:
        client.close()
