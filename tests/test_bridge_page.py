"""Settings → Connectors in headless Chromium (the run's shared one, tests/cdp.py): "Groq via aimo" shows Connected with a good key, Set up without one,
and a connector without a key says how to set it with aimo."""

from __future__ import annotations

import html
import re
import secrets

import pytest

from .cdp import Page

pytestmark = pytest.mark.wordpress

# React's cards are rendered and have finished their own connection checks (buttons read "Checking…" meanwhile)
CARDS_READY = (
    "document.querySelectorAll('#options-connectors-wp-admin-app .connectors-page button').length > 2"
    " && ![...document.querySelectorAll('#options-connectors-wp-admin-app button')].some(b => b.textContent.includes('Checking'))"
)


def render_connectors_page(bridge, page: Page) -> str:
    """The page's DOM after its scripts ran, logged in as the admin through the one-time test login."""
    token = secrets.token_hex(24)
    bridge.set_options(aimo_test_login_token=token)  # used up by the login (the bridge fixture restores it anyway)
    page.goto(f"{bridge.url}/wp-admin/options-connectors.php?aimo_test_login={token}")
    page.wait_for(CARDS_READY, timeout=60)
    return page.evaluate("document.documentElement.outerHTML")


def card_text(dom: str, name: str) -> str:
    """The visible text following a connector's name, up to the next connector (cards render in order)."""
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", dom, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\s+", " ", html.unescape(text))
    start = text.find(name)
    assert start >= 0, f"{name!r} not on the page"
    nxt = re.search(r"\S+ via aimo|Akismet", text[start + len(name) :])
    return text[start : start + len(name) + (nxt.start() if nxt else 400)]


def test_groq_via_aimo_connected_with_a_good_key_set_up_without(bridge, page):
    bridge.managed()
    dom = render_connectors_page(bridge, page)
    assert "Connectors" in dom and "wp-login.php" not in dom[:2000]
    groq = card_text(dom, "Groq via aimo")
    assert "Set up" in groq and "Connected" not in groq
    assert "aimo keys set groq && aimo sync push" in groq

    bridge.store_key("groq", bridge.fake.make_valid_key("groq"))
    dom = render_connectors_page(bridge, page)
    groq = card_text(dom, "Groq via aimo")
    assert "Connected" in groq and "Set up" not in groq
    assert "aimo keys set" not in groq
    # other connectors without a key still say how to set them
    assert "aimo keys set xai" in card_text(dom, "xAI via aimo")
    # the page checked the key live against the provider
    assert bridge.fake.requests_for("groq", "/v1/models")
