"""What a fleet computes once instead of per site, and the cheap parse of a plain site URL: each the same answer as the
per-site way (httpx's URL parse, plan_push, the proxy settings and the secret file read by every client)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aimo_cli.core.secrets import validate_url
from aimo_cli.core.sync import DRIFT, BaseRecord, RemoteKey, Status, plan_push
from aimo_cli.wordpress.client import RestRoot, WordPressClient, _ClientTransport, _parsed_url, _PlainURL, _site_label, origin_of

_PARTS = ("scheme", "host", "port", "raw_host", "netloc", "raw_path", "query", "fragment")


def _same_as_httpx(text: str) -> None:
    plain = _PlainURL.of(text)
    assert plain is not None, text
    parsed = httpx.URL(text)
    for part in _PARTS:
        assert getattr(plain, part) == getattr(parsed, part), (text, part)
    assert origin_of(plain) == origin_of(parsed) == origin_of(text)
    assert str(plain) == text
    # and services/sites.check_transport's reading of it: a valid URL, urlsplit's scheme and host
    assert validate_url(text) is None
    split = urlsplit(text)
    assert (split.scheme.lower(), split.hostname) == (plain.scheme, plain.host)
    assert _site_label(text) == f"{split.scheme}://{split.netloc}"  # the client's name for the site


@pytest.mark.parametrize(
    "text",
    ["http://127.77.1.1:8080/wp-json/", "https://example.com/wp-json/", "https://example.com", "https://a-b.c0.example:8443/x_y/~z/a.b/",
     "http://10.0.0.255/", "https://shop.example.org/blog/wp-json/"],
)
def test_a_plain_url_gives_httpx_parts_without_httpx(text):
    _same_as_httpx(text)
    assert isinstance(_parsed_url(text), _PlainURL)


@pytest.mark.parametrize(
    "text",
    ["HTTP://example.com/", "https://Example.com/", "https://example.com:443/", "http://example.com:80/x", "http://example.com:080/",
     "http://example.com:65536/", "http://1.2.3.04/", "http://1.2.3/", "http://256.1.1.1/", "https://xn--bcher-kva.example/",
     "https://bücher.example/", "http://a/b/../c", "http://a/./c", "http://a/b/..", "http://a/%41", "http://a/b?x=1", "http://a/#f",
     "http://u@a/", "http://[::1]/", "http://-a.b/", "http://a-.b/", "http://a..b/", "http://a.b./", "http://a_b.c/", "ftp://a/",
     "http://a/b c", "http://a/b\\c", " http://a/", "http://a/\n"],
)
def test_anything_else_is_httpx_own_parse(text):
    assert _PlainURL.of(text) is None
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return
    assert isinstance(_parsed_url(text), httpx.URL)
    assert _parsed_url(text) == parsed


_PIECES = st.sampled_from(["a", "b", "Z", "0", "9", "-", ".", "..", "/", "//", "_", "~", ":", ":80", ":443", ":8080", ":0", ":99999", "%2e",
                           "127", ".0", ".1", "255", "256", "01", "xn--", "?", "#", "@", " ", "\\", "é"])


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(["http://", "https://", "Http://"]), st.lists(_PIECES, max_size=10).map("".join))
def test_whenever_the_plain_parse_answers_it_is_httpx_answer(scheme, rest):
    text = scheme + rest
    if _PlainURL.of(text) is not None:
        _same_as_httpx(text)


def test_a_plan_of_a_run_is_plan_push_of_each_case():
    """LocalKeys.plan (once per distinct case) gives plan_push's decision for each case: every field of the site's
    key and of the base tells cases apart (two that differ in one field are planned each on its own)."""
    from aimo_cli.core.secrets import fingerprint, wp_mask
    from aimo_cli.services.sync import LocalKeys

    class Cred:
        def __init__(self, first: str, source: str) -> None:
            self.first, self.source = first, source

    key = "sk-test-0123456789abcdefABCDEF"
    other = "sk-test-zyxwvutsrq9876543210ZZ"
    remotes = [RemoteKey("openai", False), RemoteKey("openai", True), RemoteKey("openai", True, wp_mask(key), fingerprint(key), "database"),
               RemoteKey("openai", True, wp_mask(key), fingerprint(key), "env"), RemoteKey("openai", True, wp_mask(other), fingerprint(other), "database"),
               RemoteKey("openai", True, wp_mask(other), fingerprint(other), "constant"),
               RemoteKey("openai", True, wp_mask(other), None, "unknown"), RemoteKey("openai", True, wp_mask(key), None, "unknown")]
    bases = [None, BaseRecord(fingerprint(key), wp_mask(key)), BaseRecord(fingerprint(other), wp_mask(other)), BaseRecord(fingerprint(other), wp_mask(key))]
    for cred in (Cred(key, "file"), Cred(key, "env"), Cred("", "none")):
        keys = LocalKeys(None, ["openai"])
        decisions = set()
        for _ in range(2):  # the second time from the run's plans
            for remote in remotes:
                for base in bases:
                    got, status, action, outcome = keys.plan("openai", cred, remote, base)
                    assert got == plan_push("openai", cred.first, remote, base, source="env" if cred.source == "env" else "store")
                    assert (status, action) == (got.status.value, got.action.value)
                    assert outcome == ("drift" if got.status in DRIFT or (got.status is Status.NOT_REGISTERED and cred.first) else "")
                    decisions.add((got.status, got.action, got.reason, outcome))
        assert len(decisions) > (3 if cred.first else 2)  # (the cases are not all one)


def test_a_client_told_the_proxy_settings_does_not_read_them_again(monkeypatch):
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    root = RestRoot.parse("http://127.0.0.1:9/wp-json/")
    told = WordPressClient(root, "u", "pass word pass", proxies=True)  # as a fleet that read them once passes them on
    assert isinstance(told._transport, _ClientTransport) and told._direct is None
    told.close()
    read = WordPressClient(root, "u", "pass word pass")
    assert read._direct is not None
    read.close()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    assert isinstance(WordPressClient(root, "u", "pass word pass")._transport, _ClientTransport)
    assert WordPressClient(root, "u", "pass word pass", proxies=False)._direct is not None


def test_a_fleet_reads_the_secret_file_once_for_every_password(tmp_path, monkeypatch):
    """SecretStore.get_many: the file backend read once for all the entries (not a stat and a look-up each), each value
    then given by get() from the memo and registered for redaction as get() registers it; an entry the file lacks is None."""
    import json

    from aimo_cli import redact
    from aimo_cli.stores.secrets import FileBackend, MemoryBackend, SecretStore

    path = tmp_path / "secrets.json"
    passwords = {"site/a": "Abcd Efgh Ijkl Mnop Qrst Uvwx", "site/b": "Zyxw Vuts Rqpo Nmlk Jihg Fedc"}
    path.write_text(json.dumps(passwords))
    path.chmod(0o600)
    backend = FileBackend(path)
    reads = []
    real = backend._load
    monkeypatch.setattr(backend, "_load", lambda: reads.append(1) or real())
    store = SecretStore(backend)
    store.get_many(["site/a", "site/b", "site/none"])
    assert len(reads) == 1
    assert [store.get(e) for e in ("site/a", "site/b", "site/none")] == [passwords["site/a"], passwords["site/b"], None]
    assert len(reads) == 1  # every get() from the memo
    for value in passwords.values():
        assert value not in redact.redact(f"x {value} y") and value.replace(" ", "") not in redact.redact(f"x {value.replace(' ', '')} y")
    MemoryBackend.reset()
    memory = SecretStore(MemoryBackend())
    memory.backend.set("site/m", "Mmmm Nnnn Oooo Pppp Qqqq Rrrr")
    memory.get_many(["site/m"])
    assert memory._memo == {"site/m": "Mmmm Nnnn Oooo Pppp Qqqq Rrrr"}
    MemoryBackend.reset()


_TEXT = st.text(alphabet=st.sampled_from(list("ab{}\":, ") + ["\n", "\r", "\t", "\x0b", "\x1c", "\x85", "\u2028", "\u3000"]), max_size=300)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXT, max_size=12))
def test_the_words_redaction_searches_are_the_text_words(lines):
    """redact._words (a fleet document's words, each distinct rest of a line split once) is set(text.split())."""
    from aimo_cli.redact import _words

    text = "\n".join(lines + lines[::-1])  # (lines that repeat, as a fleet's do)
    assert _words(text) == set(text.split())


_VALUE = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["both empty", "nothing to do", "", "drift", "\u2022\u2022\u2022\u2022abcd", "é\u202e\x85", "[", "]"]),
                   st.booleans(), st.integers(-2, 2), st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, 1.0]))
_FIELDS = ("provider", "status", "action", "reason", "outcome", "source")


def _rows(results_lists, competitor, failed=True):
    """Each list of (field values) as a SiteSync's results; prerender's rows, and the rows the whole-item path writes."""
    from aimo_cli.redact import redact
    from aimo_cli.services.fleet import SiteOutcome
    from aimo_cli.services.sync import ProviderResult, SiteSync
    from aimo_cli.services.sync_render import _item, prerender
    from aimo_cli.ui.output import item_json
    from aimo_cli.ui.sanitize import json_safe

    outcomes = [
        SiteOutcome(f"s{i}", True, SiteSync(f"s{i}", True, [ProviderResult(*values) for values in results], competitor="x" if competitor else None))
        for i, results in enumerate(results_lists)
    ]
    if failed:
        outcomes.append(SiteOutcome("bad", False, None, "error", "hint"))
    expected = [json_safe(redact(item_json(_item(o)))) for o in outcomes]
    return [o.row for o in prerender(outcomes)], expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.tuples(*[_VALUE] * len(_FIELDS)), max_size=4), min_size=1, max_size=6), st.booleans())
def test_a_site_item_is_written_as_the_document_writes_it(results_lists, competitor):
    """sync_render.prerender (each distinct providers list written once, the item's own fields apart) gives the
    text of the whole item, redacted and made inert, for every site, whatever its results hold."""
    rows, expected = _rows(results_lists + results_lists[::-1], competitor)
    assert rows == expected


def test_values_that_are_equal_but_written_apart_are_not_taken_for_each_other():
    results = [[("openai", value, "none", "r", "", "s")] for value in (True, 1, 1.0, False, 0, 0.0, -0.0, "1", None)]
    rows, expected = _rows(results + results, False, failed=False)
    assert rows == expected and len({row.split('"providers": ')[1] for row in rows}) == len(results)


def test_a_big_document_is_written_in_pieces_of_the_same_text():
    """Output.json writes a fleet's document in pieces of about 64 KiB (json_chunks): together, the same text as
    json_text gives; a small document in one piece."""
    import io

    from aimo_cli.ui import output

    items = [output.Prerendered(output.item_json({"site": f"s{i}", "x": "y" * (500 + i)})) for i in range(300)]
    for doc in ({"schema_version": 1, "sites": items, "exit_code": 0}, {"schema_version": 1, "sites": [{"a": 1}], "exit_code": 0}):
        chunks = list(output.json_chunks(doc, end="\n"))
        assert "".join(chunks) == output.json_text(doc) + "\n"
        buf = io.StringIO()
        output.Output(stdout=buf, stderr=io.StringIO()).json(doc)
        assert buf.getvalue() == output.json_text(doc) + "\n"
        if doc["sites"] is items:
            assert len(chunks) > 3 and all(output._CHUNK <= len(c) < 2 * output._CHUNK for c in chunks[:-1])
        else:
            assert len(chunks) == 1
