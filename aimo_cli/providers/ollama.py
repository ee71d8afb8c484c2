"""Ollama: the credential is the server URL. Reachability is `GET /api/version` with a short connect timeout (no proxy
for loopback); models come from `/api/tags` (with `capabilities`); chat goes to the OpenAI-compatible `/v1`."""

from __future__ import annotations

from ..core.models import ModelEntry
from .base import AdapterConfig, OpenAICompatAdapter

REACH_TIMEOUT = 1.5


class Adapter(OpenAICompatAdapter):
    def __init__(self, config: AdapterConfig) -> None:
        self.server = config.base_url.rstrip("/")
        if self.server.endswith("/v1"):
            self.server = self.server[: -len("/v1")]
        super().__init__(AdapterConfig(**{**config.__dict__, "base_url": self.server + "/v1", "pool": ()}))
        self.endpoint = self.server
        self.api = self._client(self.server, connect_timeout=REACH_TIMEOUT, max_retries=0)

    def close(self) -> None:
        super().close()
        self.api.close()

    def version(self) -> str:
        data = self.api.get_json("/api/version", timeout=REACH_TIMEOUT + 1)
        return str(data.get("version", "")) if isinstance(data, dict) else ""

    def verify_key(self, key: str) -> None:
        """The 'key' is the server URL: check that it answers."""
        if key and key.rstrip("/") != self.server:
            probe = Adapter(AdapterConfig(**{**self.config.__dict__, "base_url": key}))
            try:
                probe.version()
            finally:
                probe.close()
            return
        self.version()

    def list_models(self) -> list[ModelEntry]:
        data = self.api.get_json("/api/tags")  # the short connect timeout fails fast when the server is down
        out = []
        for raw in (data.get("models") or []) if isinstance(data, dict) else []:
            if not isinstance(raw, dict):
                continue
            name = raw.get("model") or raw.get("name")
            if not isinstance(name, str):
                continue
            caps = raw.get("capabilities") if isinstance(raw.get("capabilities"), list) else None
            if caps is not None:
                if "completion" in caps:
                    kind = "text"
                elif "image" in caps:
                    kind = "image"
                else:
                    continue  # embeddings-only
            else:
                kind = "text"
            out.append(ModelEntry(id=name, provider=self.id, kind=kind))
        return out
