"""The 10 providers aimo manages: ids, names, credential kinds, default endpoints. Pure data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderInfo:
    id: str
    name: str
    default_base_url: str
    credential: str = "api_key"  # "api_key", or "url" for Ollama (the server URL is the credential)
    console_url: str = ""

    @property
    def env_var(self) -> str:
        """The environment variable WordPress core (and aimo) read for this provider."""
        if self.credential == "url":
            return "OLLAMA_HOST"
        return self.id.upper().replace("-", "_") + "_API_KEY"

    @property
    def setting_name(self) -> str:
        """The WordPress option / REST setting that holds this connector's credential."""
        return "connectors_ai_" + self.id.replace("-", "_") + "_api_key"


PROVIDERS: dict[str, ProviderInfo] = {
    p.id: p
    for p in (
        ProviderInfo("openai", "OpenAI", "https://api.openai.com/v1", console_url="https://platform.openai.com/api-keys"),
        ProviderInfo("anthropic", "Anthropic", "https://api.anthropic.com/v1", console_url="https://console.anthropic.com/settings/keys"),
        ProviderInfo("google", "Google", "https://generativelanguage.googleapis.com/v1beta/openai", console_url="https://aistudio.google.com/apikey"),
        ProviderInfo("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", console_url="https://openrouter.ai/keys"),
        ProviderInfo("perplexity", "Perplexity", "https://api.perplexity.ai", console_url="https://www.perplexity.ai/settings/api"),
        ProviderInfo("groq", "Groq", "https://api.groq.com/openai/v1", console_url="https://console.groq.com/keys"),
        ProviderInfo("nvidia", "NVIDIA", "https://integrate.api.nvidia.com/v1", console_url="https://build.nvidia.com/"),
        ProviderInfo("xai", "xAI", "https://api.x.ai/v1", console_url="https://console.x.ai/"),
        ProviderInfo("huggingface", "Hugging Face", "https://router.huggingface.co/v1", console_url="https://huggingface.co/settings/tokens"),
        ProviderInfo("ollama", "Ollama", "http://localhost:11434", credential="url", console_url="https://ollama.com/"),
    )
}

PROVIDER_IDS: tuple[str, ...] = tuple(PROVIDERS)

SETTING_TO_PROVIDER: dict[str, str] = {p.setting_name: p.id for p in PROVIDERS.values()}


def provider_id_for_setting(name: str) -> str | None:
    """Map `connectors_ai_x_api_key` back to `x` (also for providers aimo does not know)."""
    if name in SETTING_TO_PROVIDER:
        return SETTING_TO_PROVIDER[name]
    if name.startswith("connectors_ai_") and name.endswith("_api_key"):
        return name[len("connectors_ai_") : -len("_api_key")] or None
    return None
