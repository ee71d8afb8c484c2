"""Dependencies come from the application context (gh's Factory): `ctx.wordpress(site)`, `ctx.adapter(provider,
credential)`, `ctx.env`, `ctx.clock`, `ctx.transport`. Tests inject them; nothing replaces a module attribute."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import httpx
import pytest

from aimo_cli.context import AppContext, Clock, Dependencies
from aimo_cli.errors import AuthError, ExitCode, SafetyError
from aimo_cli.stores.secrets import MemoryBackend
from aimo_cli.stores.settings import SiteConfig

from .clihelper import run_cli
from .secrets_registry import make_key

ROOT = Path(__file__).resolve().parent.parent / "aimo_cli"
PASSWORD = "abcd efgh ijkl mnop qrst uvwx"


def _site(url="http://127.0.0.1:9") -> SiteConfig:
    return SiteConfig(name="blog", url=url, user="admin", rest_root=url + "/wp-json/")


def test_wordpress_clients_go_through_the_injected_transport():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.headers.get("authorization", "")))
        return httpx.Response(200, json={"id": 1, "slug": "admin"})

    MemoryBackend._data["site/blog"] = PASSWORD
    ctx = AppContext(deps=Dependencies(transport=httpx.MockTransport(handler)))
    with ctx.wordpress(_site()) as client:
        assert client.get("/wp/v2/users/me")["slug"] == "admin"
    assert [(m, p) for m, p, _ in seen] == [("GET", "/wp-json/wp/v2/users/me")]
    assert seen[0][2].startswith("Basic ")  # the stored application password, never on a real network


def test_wordpress_factory_refuses_what_every_command_refuses():
    ctx = AppContext(deps=Dependencies(transport=httpx.MockTransport(lambda r: httpx.Response(500))))
    with pytest.raises(AuthError):  # no password stored
        ctx.wordpress(_site())
    MemoryBackend._data["site/blog"] = PASSWORD
    with pytest.raises(SafetyError):  # plain http to a remote host, before anything goes out
        ctx.wordpress(_site("http://blog.example.com"))


def test_the_environment_is_the_contexts():
    key = make_key("gsk_ctxenv")
    ctx = AppContext(deps=Dependencies(env={"GROQ_API_KEY": key}))
    from aimo_cli.services import credentials

    cred = credentials.resolve(ctx, "groq")
    assert (cred.source, cred.first) == ("env", key)
    assert credentials.resolve(AppContext(deps=Dependencies(env={})), "groq").source != "env"


def test_adapters_sleep_on_the_contexts_clock(fake, fake_env):
    """A provider answering 503 is retried with back-off: the sleeps go to the injected clock, none is real."""
    from aimo_cli.services import credentials

    slept: list[float] = []
    ctx = AppContext(deps=Dependencies(clock=Clock(sleep=slept.append)))
    fake.fail_next("groq", 503, "busy", times=10)
    adapter = ctx.adapter("groq", credentials.resolve(ctx, "groq"))
    try:
        with pytest.raises(Exception):
            adapter.list_models()
    finally:
        adapter.close()
    assert slept == [0.5, 1.0, 2.0]


def test_run_threads_dependencies_into_the_command(fake, fake_env):
    """`aimo keys verify` with a clock injected through app.run(deps=…): its retries sleep on that clock."""
    slept: list[float] = []
    fake.fail_next("groq", 503, "busy", times=10)
    r = run_cli(["keys", "verify", "groq", "--json"], deps=Dependencies(clock=Clock(sleep=slept.append, time=lambda: 1_000_000.0)))
    assert r.code == ExitCode.REMOTE, r.text
    assert json.loads(r.out)["results"][0]["status"] == "unreachable" and slept == [0.5, 1.0, 2.0]


def _direct_client_construction(tree: ast.AST) -> list[tuple[int, str]]:
    """Services building their own clients instead of asking the context."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in ("make_adapter", "client_for", "WordPressClient"):
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("make_adapter", "client_for", "WordPressClient"):
                found.append((node.lineno, f"{name}(…)"))
    return found


def test_services_get_their_clients_from_the_context():
    offenders = []
    for path in sorted((ROOT / "services").glob("*.py")) + sorted((ROOT / "commands").glob("*.py")):
        for line, what in _direct_client_construction(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(ROOT.parent)}:{line}: {what}")
    assert not offenders, "use ctx.wordpress(site) / ctx.adapter(provider, credential):\n" + "\n".join(offenders)


def test_the_client_scan_sees_a_planted_violation():
    planted = "from ..providers import make_adapter\ndef f(ctx):\n    return make_adapter(ctx, 'groq')\n"
    assert sorted(_direct_client_construction(ast.parse(planted))) == [(1, "import make_adapter"), (3, "make_adapter(…)")]
