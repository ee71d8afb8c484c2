"""Perplexity: chat completions were retired on 2026-09-27; generation is the Agent API, `POST /v1/agent` in the
Responses format (streamed as `response.output_text.delta` events). Models: `GET /v1/models`. A bad key gets an HTML
401 from the edge proxy."""

from __future__ import annotations

import json as jsonlib

from ..core.provider_errors import error_message, rejected_parameter
from ..core.sampling import SAMPLING_PARAMS, rejects_sampling
from ..errors import RemoteError, UsageError
from .base import Generation, ImageResult, OpenAICompatAdapter, iter_sse
from .http import LIST_TIMEOUT, ProviderHTTPError
from .stream import read_whole, stream_lines


class Adapter(OpenAICompatAdapter):
    def list_models(self):
        data = self.http.get_json("/v1/models", timeout=LIST_TIMEOUT)
        rows = data.get("data") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise RemoteError("Perplexity answered /v1/models without a model list", "Check the base_url in aimo.toml.")
        return [e for e in (self.normalise(r) for r in rows if isinstance(r, dict)) if e is not None]

    def verify_key(self, key: str) -> None:
        self.http.get_json("/v1/models", key=key, timeout=LIST_TIMEOUT)

    def _body(self, model, messages, max_tokens, sampling, stream) -> dict:
        system = "\n".join(str(m.get("content", "")) for m in self.prepare_messages(messages) if m.get("role") == "system")
        items = [
            {"type": "message", "role": m.get("role", "user"), "content": m.get("content", "")}
            for m in self.prepare_messages(messages)
            if m.get("role") != "system"
        ]
        body = {"model": model, "input": items, "max_output_tokens": int(max_tokens), "stream": bool(stream)}
        if system:
            body["instructions"] = system
        if sampling and not rejects_sampling(model, self.config.no_sampling_prefixes):
            body.update({k: v for k, v in sampling.items() if k in SAMPLING_PARAMS and v is not None})
        return body

    def generate_text(self, model, messages, *, max_tokens=512, sampling=None, stream=True, on_text=None) -> Generation:
        quirks = self.config.quirks.get(self.id, model)
        body = quirks.apply(self._body(model, messages, max_tokens, sampling, stream))
        try:
            return self._agent(model, body, stream, on_text, ())
        except ProviderHTTPError as exc:
            found = rejected_parameter(exc.provider_message, body) if exc.status in (400, 422) else None
            if not found:
                raise
            param, _ = found
            self.config.quirks.learn(self.id, model, param, None)
            return self._agent(model, {k: v for k, v in body.items() if k != param}, stream, on_text, (param,))

    def _agent(self, model, body, stream, on_text, dropped) -> Generation:
        resp = self.http.request("POST", "/v1/agent", json=body, stream=stream)
        try:
            if stream and "event-stream" in resp.headers.get("content-type", ""):
                parts: list[str] = []
                status = None
                for event, data in iter_sse(stream_lines(resp, self.info.name)):
                    try:
                        payload = jsonlib.loads(data)
                    except ValueError:
                        continue
                    kind = payload.get("type") or event
                    if kind == "response.output_text.delta" and isinstance(payload.get("delta"), str):
                        parts.append(payload["delta"])
                        if on_text:
                            on_text(payload["delta"])
                    elif kind in ("response.failed", "error"):
                        raise RemoteError(f"Perplexity failed mid-stream: \u201c{error_message(data)}\u201d")
                    elif kind == "response.completed":
                        status = (payload.get("response") or {}).get("status", "completed")
                return Generation(self.id, model, "".join(parts), status, dropped)
            if stream:  # asked to stream, answered whole: read within the same bounds
                resp = read_whole(resp, self.info.name)
            data = self.http.parse_json(resp)
        finally:
            resp.close()
        text = data.get("output_text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            chunks = []
            for item in data.get("output") or [] if isinstance(data, dict) else []:
                for part in item.get("content") or [] if isinstance(item, dict) else []:
                    if isinstance(part, dict) and part.get("type") == "output_text":
                        chunks.append(str(part.get("text", "")))
            text = "".join(chunks)
        if on_text and text:
            on_text(text)
        return Generation(self.id, model, text, data.get("status") if isinstance(data, dict) else None, dropped)

    def generate_image(self, model, prompt, *, size=None) -> ImageResult:
        raise UsageError("Perplexity has no image generation endpoint", "Pick an image model of openai or xai.")
