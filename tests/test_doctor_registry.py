"""The doctor's check registry (services/doctor.py): each check declares its id, group, the facts it needs and its exit
class; the facts are gathered once; `aimo site test` is the registry's `site` group; local and site facts are
gathered concurrently. Site answers come from an injected httpx transport (tests/test_doctor_cli.py's FakeWP)."""

from __future__ import annotations

import json
import threading

import httpx

from aimo_cli.context import AppContext, Dependencies
from aimo_cli.core import checks as C
from aimo_cli.core.exits import ExitStatus
from aimo_cli.services import doctor
from aimo_cli.stores.secrets import MemoryBackend

from . import test_doctor_cli as dc
from .test_doctor_cli import connector, one_site, run_cli, status_doc, write_config

wp = dc.wp  # the FakeWP fixture (injected as the context's transport by dc.run_cli)

KEY = "gsk_registry_key_0123456789abcd"


def test_every_registration_is_well_formed():
    ids = [s.id for s in doctor.REGISTRY]
    assert len(ids) == len(set(ids))
    for spec in doctor.REGISTRY:
        assert spec.group in doctor.GROUPS and spec.scope in ("local", "site")
        assert isinstance(spec.exit_class, ExitStatus)
        facts = doctor.LocalFacts if spec.scope == "local" else doctor.SiteFacts
        for need in spec.needs:
            assert hasattr(facts, need) or need in facts.__dataclass_fields__, (spec.id, need)


def _facts(**over) -> doctor.SiteFacts:
    from aimo_cli.services import credentials
    from aimo_cli.stores.settings import SiteConfig
    from aimo_cli.wordpress.bridge import parse_status

    site = SiteConfig(name="blog", url="https://blog.example", user="admin")
    ctx = AppContext(deps=Dependencies(env={}))
    f = doctor.SiteFacts(site, offline=True, loopback=False)
    f.me = {"slug": "admin", "capabilities": {"manage_options": True}}
    f.status = parse_status(status_doc(connectors=[connector("groq", KEY)]))
    f.local = {c.provider: c for c in credentials.resolve_all(ctx)}
    f.base = {}
    from aimo_cli.services.sync import remote_from_status

    f.remote = remote_from_status(f.status)
    for k, v in over.items():
        setattr(f, k, v)
    return f


def test_a_check_runs_only_when_the_facts_it_needs_are_there():
    ids = {c.id for c in doctor.run_registry(_facts(), "site")}
    assert {"site.credentials", "site.manage_options", "site.bridge_version", "site.mode", "connector.groq.sync", "features.wpai"} <= ids
    no_bridge = {c.id for c in doctor.run_registry(_facts(status=None, remote=None), "site")}
    assert "site.mode" not in no_bridge and "features.wpai" not in no_bridge and "connector.groq.sync" not in no_bridge
    not_admin = {c.id for c in doctor.run_registry(_facts(me={"slug": "ed", "roles": ["editor"]}, status=None, remote=None), "site")}
    assert not_admin == {"site.reachable", "site.https", "site.credentials", "site.manage_options"}


def test_the_registry_stamps_each_checks_exit_class():
    f = _facts(me={"slug": "ed", "roles": ["editor"]})
    by_id = {c.id: c for c in doctor.run_registry(f, "site")}
    assert by_id["site.manage_options"].status == C.FAIL and by_id["site.manage_options"].exit_status() is ExitStatus.AUTH


def test_adding_a_check_is_one_function_and_one_registration(wp):  # noqa: F811
    """What CONTRIBUTING promises: register a function, and the doctor (and, in the site group, site test) runs it."""
    write_config(one_site())

    @doctor.register("site.example", "site", needs=("status",), exit_class=ExitStatus.REFUSED)
    def _example(f):
        return C.check("site.example", C.FAIL, f"{f.name}: example ({f.status.php_version})", "fix it", group=f"site {f.name}", site=f.name)

    try:
        r = run_cli(["doctor", "--json", "--offline"])
        got = {c["id"]: c for c in json.loads(r.out)["checks"]}
        assert got["site.example"]["message"] == "blog: example (8.2.29)"
        assert r.code == 6  # its declared exit class
    finally:
        doctor.REGISTRY.remove(next(s for s in doctor.REGISTRY if s.id == "site.example"))


def test_site_test_is_the_site_group_of_the_registry(wp):  # noqa: F811
    """One Check type, one set of messages: `aimo site test` shows exactly the doctor's `site` group."""
    write_config(one_site())
    wp.status = status_doc(mode="observe")
    r = run_cli(["doctor", "--json", "--offline"])
    doctor_site = [(c["id"], c["status"], c["message"], c["hint"]) for c in json.loads(r.out)["checks"] if c["group"] == "site blog"]
    r = run_cli(["site", "test", "--json"])
    assert r.code == 0, r.text  # the observe mode only warns
    report = json.loads(r.out)
    assert [(c["id"], c["status"], c["message"], c["hint"]) for c in report["checks"]] == doctor_site
    assert [c[0] for c in doctor_site] == [s.id for s in doctor.REGISTRY if s.group == "site" and s.id != "site.settings"]
    assert report["rest_root"] == "https://blog.example/wp-json/" and report["bridge"] is True


def test_site_test_exit_code_is_the_most_severe_check(wp):  # noqa: F811
    write_config(one_site())
    wp.me_status = 401
    r = run_cli(["site", "test"])
    assert r.code == 4 and "refused the credentials" in r.out and "aimo site add blog" in r.err


class _Gate:
    """Two events: each side of the doctor waits until the other side has started."""

    def __init__(self) -> None:
        self.site_started = threading.Event()
        self.local_started = threading.Event()


def test_local_and_site_facts_are_gathered_concurrently(wp):  # noqa: F811
    """The local side (here: Ollama from this machine) and the site side each block until the other has started:
    run one after the other, the doctor would wait out both timeouts and report both as failed."""
    from aimo_cli.services.credentials import Credential  # noqa: F401  (the adapter factory gets one)

    write_config(one_site())
    gate = _Gate()
    inner = wp

    def site_handler(request: httpx.Request) -> httpx.Response:
        gate.site_started.set()
        if not gate.local_started.wait(10):
            return httpx.Response(503, json={"code": "gate", "message": "the local side never started", "data": {"status": 503}})
        return inner(request)

    class FakeOllama:
        def version(self):
            gate.local_started.set()
            if not gate.site_started.wait(10):
                raise doctor.RemoteError("the site side never started")
            return "0.9.0"

        def close(self):
            pass

    class Ctx(AppContext):
        def adapter(self, provider_id, credential, **kw):  # the context is the factory: inject through it
            assert provider_id == "ollama"
            return FakeOllama()

    ctx = Ctx(deps=Dependencies(transport=httpx.MockTransport(site_handler), env={"OLLAMA_HOST": "http://127.0.0.1:11434", "AIMO_KEYRING": "memory"}))
    MemoryBackend._data["site/blog"] = "abcd efgh ijkl mnop qrst uvwx"
    report = doctor.run(ctx, names=["blog"], offline=False)
    by_id = {c.id: c for c in report.checks}
    assert by_id["features.ollama.aimo"].status == C.OK, by_id["features.ollama.aimo"]
    assert by_id["site.reachable"].status == C.OK and by_id["site.mode"].status == C.OK
