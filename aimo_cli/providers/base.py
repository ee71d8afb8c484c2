"""The adapter protocol and the OpenAI-compatible base most providers share.

An adapter lists models, verifies one key with the cheapest authenticated call, generates text (streamed by default)
and, where the provider has an OpenAI-style image endpoint, generates an image. Everything goes through
`ProviderClient` (retries, pool failover, error mapping).
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import field
from typing import Any, Callable, Iterable, Iterator, Protocol

from ..core.models import ModelEntry
from ..core.provider_errors import rejected_parameter
from ..core.providers import PROVIDERS
from ..core.records import record
from ..core.sampling import ParamQuirks, chat_body
from ..errors import RemoteError, UsageError
from .http import LIST_TIMEOUT, ProviderClient, ProviderHTTPError
from .quirks import QuirkStore
from .stream import read_whole, stream_lines


@record
class AdapterConfig:
    provider: str
    base_url: str
    pool: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # the raw [providers.ID] table
    no_sampling_prefixes: tuple[str, ...] | None = None
    quirks: QuirkStore = field(default_factory=lambda: QuirkStore(None))
    sleep: Callable[[float], None] | None = None  # None: providers.http.SLEEP
    verify_tls: bool | str = True
    log: Callable[[str], None] | None = None


@record(frozen=True)
class Generation:
    provider: str
    model: str
    text: str
    finish_reason: str | None = None
    dropped: tuple[str, ...] = ()  # parameters the provider rejected and aimo removed


@record(frozen=True)
class ImageResult:
    provider: str
    model: str
    b64_json: str | None = None
    url: str | None = None


class ProviderAdapter(Protocol):
    id: str
    endpoint: str

    def list_models(self) -> list[ModelEntry]: ...
    def verify_key(self, key: str) -> None: ...
    def generate_text(
        self, model: str, messages: list[dict], *, max_tokens: int = 512, sampling: dict | None = None, stream: bool = True, on_text: Callable[[str], None] | None = None
    ) -> Generation: ...
    def generate_image(self, model: str, prompt: str, *, size: str | None = None) -> ImageResult: ...
    def close(self) -> None: ...


def iter_sse(lines: Iterable[str]) -> Iterator[tuple[str | None, str]]:
    """(event, data) pairs of a server-sent event stream."""
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


class OpenAICompatAdapter:
    """`GET {base}/models`, `POST {base}/chat/completions`, optionally `POST {base}/images/generations`.

    Serves every plain OpenAI-compatible provider as it is: the id comes from the config, and how it authenticates,
    whether /models needs a key, how a key is verified and whether it has an image endpoint come from the provider
    manifest (core.providers). Subclasses (one file per provider that needs one) override the hooks below.
    """

    def __init__(self, config: AdapterConfig) -> None:
        self.config = config
        self.id = config.provider
        self.info = PROVIDERS[self.id]
        self.auth = self.info.auth
        self.models_public = self.info.models_public  # True: /models answers without a key (verification needs another call)
        self.image_endpoint = self.info.images
        self.endpoint = config.base_url.rstrip("/")
        self.http = self._client(config.base_url)

    def _client(self, base_url: str, **kw) -> ProviderClient:
        cfg = self.config
        return ProviderClient(
            provider=self.id,
            name=self.info.name,
            base_url=base_url,
            pool=cfg.pool,
            auth=self.auth,
            headers=self.extra_headers(),
            sleep=cfg.sleep,
            verify=cfg.verify_tls,
            is_auth_failure=self.is_auth_failure,
            log=cfg.log,
            console_hint=self.info.console_url or None,
            **kw,
        )

    def close(self) -> None:
        self.http.close()

    # -- hooks -------------------------------------------------------------------------------------------------------
    def extra_headers(self) -> dict[str, str]:
        return {}

    def is_auth_failure(self, status: int, message: str) -> bool:
        return status in (401, 403)

    def model_kind(self, raw: dict) -> str | None:
        """'text', 'image', or None for models aimo does not offer (embeddings, speech, moderation)."""
        mid = str(raw.get("id", "")).lower()
        if any(w in mid for w in ("embed", "whisper", "tts", "moderation", "transcribe", "rerank", "guard", "-audio", "realtime", "speech")):
            return None
        if any(w in mid for w in ("image", "dall-e", "imagen", "imagine", "flux", "stable-diffusion", "sdxl")):
            return "image"
        return "text"

    def normalise(self, raw: dict) -> ModelEntry | None:
        mid = raw.get("id")
        if not isinstance(mid, str) or not mid:
            return None
        kind = self.model_kind(raw)
        if kind is None:
            return None
        ctx = raw.get("context_window") or raw.get("context_length") or raw.get("max_model_len")
        return ModelEntry(id=mid, provider=self.id, kind=kind, context_window=ctx if isinstance(ctx, int) else None, name=raw.get("name") if isinstance(raw.get("name"), str) else None)

    # -- operations --------------------------------------------------------------------------------------------------
    def models_params(self) -> dict | None:
        return None

    def list_models(self) -> list[ModelEntry]:
        data = self.http.get_json("/models", params=self.models_params(), auth=not self.models_public, timeout=LIST_TIMEOUT)
        rows = data.get("data") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise RemoteError(f"{self.info.name} answered /models without a model list", "Check the base_url in aimo.toml.")
        if rows and not any(isinstance(raw, dict) and isinstance(raw.get("id"), str) for raw in rows):
            raise RemoteError(f"{self.info.name} answered /models with {len(rows)} entries, none of them a model", "Check the base_url in aimo.toml.")
        out = []
        for raw in rows:
            if isinstance(raw, dict):
                entry = self.normalise(raw)
                if entry is not None:
                    out.append(entry)
        return out

    def verify_key(self, key: str) -> None:
        """The manifest's key_check: `models` (GET /models with the key), a path under the base URL, or a URL."""
        check = self.info.key_check
        if check.startswith(("https://", "http://")):
            check = str(self.config.extra.get("key_check_url") or check)  # [providers.ID] key_check_url (gateways, tests)
        target = "/models" if check in ("models", "server") else check
        self.http.get_json(target, key=key, params=self.verify_params(), timeout=LIST_TIMEOUT)

    def verify_params(self) -> dict | None:
        return None

    def generate_text(self, model, messages, *, max_tokens=512, sampling=None, stream=True, on_text=None) -> Generation:
        quirks = self.config.quirks.get(self.id, model)
        dropped: list[str] = []
        retried = False
        while True:
            body = chat_body(
                self.id,
                model,
                self.prepare_messages(messages),
                max_tokens=max_tokens,
                stream=stream,
                sampling=sampling,
                no_sampling_prefixes=self.config.no_sampling_prefixes,
                quirks=quirks,
            )
            try:
                return self._chat(model, body, stream, on_text, tuple(dropped))
            except ProviderHTTPError as exc:
                found = rejected_parameter(exc.provider_message, body) if exc.status in (400, 422) else None
                if found is None or retried:
                    raise
                param, replacement = found
                retried = True
                self.config.quirks.learn(self.id, model, param, replacement)
                drop, rename = set(quirks.drop), dict(quirks.rename)
                if replacement:
                    rename[param] = replacement
                else:
                    drop.add(param)
                quirks = ParamQuirks(frozenset(drop), rename)
                dropped.append(param if not replacement else f"{param}\u2192{replacement}")
                if self.config.log:
                    self.config.log(f"{self.info.name} rejected {param} for {model}; retrying without it (remembered)")

    def prepare_messages(self, messages: list[dict]) -> list[dict]:
        from ..core.sampling import flatten_content

        return flatten_content(messages)

    def _chat(self, model: str, body: dict, stream: bool, on_text, dropped: tuple[str, ...]) -> Generation:
        resp = self.http.request("POST", "/chat/completions", json=body, stream=stream)
        try:
            ctype = resp.headers.get("content-type", "")
            if stream and "event-stream" in ctype:
                text, finish = [], None
                for _event, data in iter_sse(stream_lines(resp, self.info.name)):
                    if data.strip() == "[DONE]":
                        break
                    try:
                        chunk = jsonlib.loads(data)
                    except ValueError:
                        raise RemoteError(f"{self.info.name} sent a stream chunk that is not JSON", "Retry without streaming, or check the base_url.") from None
                    if isinstance(chunk, dict) and chunk.get("error"):
                        from ..core.provider_errors import error_message

                        raise RemoteError(f"{self.info.name} failed mid-stream: \u201c{error_message(jsonlib.dumps(chunk))}\u201d")
                    for choice in (chunk.get("choices") or []) if isinstance(chunk, dict) else []:
                        delta = (choice.get("delta") or {}).get("content")
                        if isinstance(delta, str) and delta:
                            text.append(delta)
                            if on_text:
                                on_text(delta)
                        finish = choice.get("finish_reason") or finish
                return Generation(self.id, model, "".join(text), finish, dropped)
            if stream:  # asked to stream, answered whole: read within the same bounds
                resp = read_whole(resp, self.info.name)
            data = self.http.parse_json(resp)
        finally:
            resp.close()
        try:
            choice = data["choices"][0]
            content = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise RemoteError(f"{self.info.name} answered the chat request without a message", "Check the model id with aimo models list.") from None
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if on_text and content:
            on_text(content)
        return Generation(self.id, model, str(content), choice.get("finish_reason"), dropped)

    def generate_image(self, model: str, prompt: str, *, size: str | None = None) -> ImageResult:
        if not self.image_endpoint:
            raise UsageError(f"{self.info.name} has no OpenAI-style image endpoint that aimo can call", "Pick an image model of openai or xai (aimo models list --type image).")
        body: dict[str, Any] = {"model": model, "prompt": prompt, "n": 1}
        if size:
            body["size"] = size
        data = self.http.post_json("/images/generations", body)
        try:
            item = data["data"][0]
        except (KeyError, IndexError, TypeError):
            raise RemoteError(f"{self.info.name} answered the image request without an image") from None
        return ImageResult(self.id, model, item.get("b64_json"), item.get("url"))
