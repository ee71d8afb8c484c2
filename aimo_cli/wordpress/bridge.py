"""A typed client over the bridge plugin's REST routes (aimo/v1). Sync and doctor call these.

Contract (bridge 0.1.0):
  GET  /aimo/v1/status[?check=1]     -> the status report (see aimo_cli/bridge/aimo-bridge/includes/status.php)
  POST /aimo/v1/mode                 {mode, take_over} -> {mode, previous, demoted, replaced}; 409 aimo_conflict
  POST /aimo/v1/models               {text?, image?} ("provider:model" or "") -> {text, image}; 400 aimo_disconnected_provider;
                                     409 aimo_conflict while another manager manages
  POST /aimo/v1/credentials          {id: key} -> {results: {id: {status: stored|rejected|unchanged, reason, fingerprint}}};
                                     409 aimo_conflict while another manager manages
  GET  /aimo/v1/credentials/{id}     -> {id, key, key_source}; 403 aimo_insecure_transport unless https or from loopback
  POST /aimo/v1/base-urls            {id: url|null} -> the stored overrides {id: url}; 400 aimo_insecure_url for http
                                     to a non-loopback host (both: super admin only on multisite)
  GET  /aimo/v1/models[?refresh=1]   -> saved choices + connected providers' text/image models (the banner's pickers)
  POST /aimo/v1/banner               {dismissed: bool} (the Connectors page banner)
"""

from __future__ import annotations

from typing import Any, Mapping

from ..core.secrets import looks_masked
from ..errors import AimoError, ExitCode, RemoteError, SafetyError, UsageError

NS = "/aimo/v1"
MODES = ("observe", "managed", "off")
PLUGIN_ROUTE = "/wp/v2/plugins/aimo-bridge/aimo-bridge"


class BridgeMissing(RemoteError):
    """The site has no aimo/v1 routes: the bridge is not installed or not active."""


class BridgeConflict(SafetyError):
    """Another plugin manages the connectors; taking over needs the admin's say-so."""

    def __init__(self, message: str, hint: str | None = None, *, manager: str = "") -> None:
        super().__init__(message, hint)
        self.manager = manager


def _call(client, method: str, route: str, *, body: Any = None, params: dict | None = None) -> Any:
    try:
        if method == "GET":
            return client.get(NS + route, params)
        return client.request(method, NS + route, params=params, body=body, retry=False).data
    except RemoteError as exc:
        code = getattr(exc, "wp_code", "")
        if getattr(exc, "status", None) == 404 and code == "rest_no_route":
            raise BridgeMissing(
                f"{client.site} has no aimo bridge (no aimo/v1 routes)",
                "Install and activate it: aimo bridge install --wp-path DIR (or aimo bridge zip and upload), then aimo bridge activate.",
            ) from None
        raise


def _object(client, data: Any, what: str) -> dict:
    if not isinstance(data, dict):
        raise RemoteError(f"{client.site}: the bridge answered {what} with something other than a JSON object", "Update the bridge: aimo bridge install.")
    return data


def status(client, check: bool = False) -> dict:
    """The bridge's status report; `check` runs live key checks (one /models call per keyed provider)."""
    return _object(client, _call(client, "GET", "/status", params={"check": 1} if check else None), "/status")


def set_mode(client, mode: str, take_over: bool = False) -> dict:
    """Switch the bridge's mode. Raises BridgeConflict when another manager is in charge and take_over is false."""
    if mode not in MODES:
        raise UsageError(f"unknown bridge mode {mode!r}", "Use observe, managed or off.")
    try:
        data = _call(client, "POST", "/mode", body={"mode": mode, "take_over": bool(take_over)})
    except RemoteError as exc:
        if getattr(exc, "status", None) == 409:
            manager = _conflict_manager(exc)
            raise BridgeConflict(
                f"{client.site}: {manager or 'another plugin'} manages the connectors",
                "Take over with --take-over (it is switched to observe; its keys are untouched), or leave it in charge.",
                manager=manager,
            ) from None
        raise
    return _object(client, data, "/mode")


def _write_conflict(client, exc: RemoteError) -> BridgeConflict:
    """The bridge refused a write because another manager runs the Connectors (409 aimo_conflict)."""
    manager = _conflict_manager(exc)
    return BridgeConflict(
        f"{client.site}: {manager or 'another plugin'} manages the Connectors; aimo writes nothing through it",
        "Take over with aimo connectors takeover SITE (it is switched to observe; its keys are untouched), or leave it in charge.",
        manager=manager,
    )


def _conflict_manager(exc: RemoteError) -> str:
    """The manager's name from the bridge's 409 message ("NAME is managing the connectors. …")."""
    import re

    m = re.search(r"aimo_conflict: (.+?) is managing the connectors", exc.message)
    return m.group(1) if m else ""


def set_models(client, text: str | None = None, image: str | None = None) -> dict:
    """Set WordPress AI model preferences ("provider:model", or "" for Automatic); None leaves one unchanged."""
    body = {k: v for k, v in (("text", text), ("image", image)) if v is not None}
    if not body:
        raise UsageError("nothing to set", "Give a text and/or an image model (provider:model, or '' for Automatic).")
    try:
        return _object(client, _call(client, "POST", "/models", body=body), "/models")
    except RemoteError as exc:
        if getattr(exc, "status", None) == 409 and getattr(exc, "wp_code", "") == "aimo_conflict":
            raise _write_conflict(client, exc) from None
        if getattr(exc, "wp_code", "") == "aimo_disconnected_provider":
            raise AimoError(exc.message, "Connect the provider first: aimo keys set ID, then aimo sync push.", code=ExitCode.REFUSED) from None
        raise


def put_credentials(client, credentials: Mapping[str, str]) -> dict:
    """Safe write of several keys at once: {id: {status, reason, fingerprint}}. Empty or masked values never leave aimo."""
    for pid, key in credentials.items():
        if not isinstance(key, str) or not key.strip():
            raise SafetyError(f"refusing to send an empty credential for {pid}", "An empty value never replaces a key; remove it from the request.")
        if looks_masked(key):
            raise SafetyError(f"refusing to send a masked credential for {pid}", "Only real keys are sent; a masked value would wipe the key.")
    if not credentials:
        return {}
    try:
        data = _object(client, _call(client, "POST", "/credentials", body=dict(credentials)), "/credentials")
    except RemoteError as exc:
        if getattr(exc, "status", None) == 409 and getattr(exc, "wp_code", "") == "aimo_conflict":
            raise _write_conflict(client, exc) from None
        raise
    results = data.get("results")
    if not isinstance(results, dict):
        raise RemoteError(f"{client.site}: the bridge's /credentials answer has no results", "Update the bridge: aimo bridge install.")
    return results


def clear_credentials(client, provider_ids: list[str]) -> dict:
    """aimo's explicit removal path: POST /credentials/clear {providers: [...]} -> {id: {status, reason, previous_fingerprint}}.
    The only request by which aimo empties a connector; the bridge refuses it outside managed mode."""
    if not provider_ids:
        return {}
    data = _object(client, _call(client, "POST", "/credentials/clear", body={"providers": list(provider_ids)}), "/credentials/clear")
    results = data.get("results")
    if not isinstance(results, dict):
        raise RemoteError(f"{client.site}: the bridge's /credentials/clear answer has no results", "Update the bridge: aimo bridge install.")
    return {str(k): v for k, v in results.items() if isinstance(v, dict)}


def get_credential(client, provider_id: str) -> str:
    """The raw stored key of one connector (bridge refuses unless the site is https or local; aimo unless https or loopback)."""
    client.require_private_transport(f"the raw {provider_id} key")
    try:
        data = _object(client, _call(client, "GET", f"/credentials/{provider_id}"), "/credentials")
    except RemoteError as exc:
        if getattr(exc, "wp_code", "") == "aimo_insecure_transport":
            raise SafetyError(
                f"{client.site} refuses to send raw keys over plain http",
                "Use the site over https (or a local development site with WP_ENVIRONMENT_TYPE=local).",
            ) from None
        raise
    key = data.get("key")
    return key if isinstance(key, str) else ""


def set_base_urls(client, urls: Mapping[str, str | None]) -> dict:
    """Store (url) or remove (None) per-provider base URL overrides on the site; returns all stored overrides."""
    return _object(client, _call(client, "POST", "/base-urls", body=dict(urls)), "/base-urls")
