"""The default trust is loaded on the first TLS handshake, not when a client is built (plain-http loopback sites and
providers never parse the CA bundle), and verification is exactly as strict as before."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading

import httpx
import pytest

from aimo_cli.tls import _default_trust, ssl_context


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls-trust")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(cert), str(key))
    srv.socket = server_ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{srv.server_port}/", str(cert)
    srv.shutdown()


def test_building_a_client_loads_no_certificate():
    ctx = _default_trust()  # a fresh one: ssl_context(True) is shared by the whole process
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    with httpx.Client(verify=ctx) as client:  # what every WordPress and provider client does, http:// URL or not
        assert client is not None
    assert ctx.cert_store_stats()["x509_ca"] == 0
    assert isinstance(ssl_context(True), type(ctx).__mro__[1]) and type(ssl_context(True)).__name__ == "DefaultTrust"


def test_https_is_verified_as_before(tls_server):
    url, cert = tls_server
    ctx = _default_trust()
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(url, verify=ctx)  # a self-signed certificate is refused by the default trust
    assert ctx.cert_store_stats()["x509_ca"] > 0  # the bundle was loaded before that handshake
    assert httpx.get(url, verify=ssl_context(cert)).status_code == 204  # and a CA bundle (--ca-bundle) makes it work


def test_the_wordpress_client_verifies_certificates_and_host_names(tls_server):
    """WordPressClient's own transport (aimo_cli/transport.py) verifies as httpx did: a self-signed certificate is
    refused by the default trust, accepted with its CA bundle (--ca-bundle), and only for the host it names."""
    from aimo_cli.errors import RemoteError
    from aimo_cli.wordpress.client import RestRoot, WordPressClient

    url, cert = tls_server
    with WordPressClient(RestRoot.parse(url + "wp-json/"), "u", "p p p p p p", retries=0) as client:
        with pytest.raises(RemoteError, match="TLS verification failed"):
            client.get("/aimo/v1/status")
    with WordPressClient(RestRoot.parse(url + "wp-json/"), "u", "p p p p p p", retries=0, verify=cert) as client:
        assert client.request("GET", "/aimo/v1/status", expect_json=False).status == 204
    other_name = url.replace("127.0.0.1", "localhost")  # the same server, under a name its certificate does not hold
    with WordPressClient(RestRoot.parse(other_name + "wp-json/"), "u", "p p p p p p", retries=0, verify=cert) as client:
        with pytest.raises(RemoteError, match="TLS verification failed"):
            client.get("/aimo/v1/status")
