"""aimo ask: send one prompt to one model and stream the answer (an end-to-end check of a key)."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from ._common import app_ctx


def ask(
    ctx: typer.Context,
    prompt: Optional[str] = typer.Argument(None, help="The prompt; - (or nothing, when piped) reads standard input.", metavar="[PROMPT | -]"),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="PROVIDER:MODEL (default: [wordpress.models] text).", metavar="ID:MODEL"),
    system: Optional[str] = typer.Option(None, "--system", help="A system instruction.", metavar="INSTRUCTION"),
    max_tokens: int = typer.Option(512, "--max-tokens", help="Upper bound on the answer's length in tokens.", metavar="N", min=1),
    temperature: Optional[float] = typer.Option(None, "--temperature", help="Sampling temperature (dropped for models that reject it).", metavar="NUMBER"),
    no_stream: bool = typer.Option(False, "--no-stream", help="Wait for the whole answer instead of streaming it."),
) -> None:
    """Send one prompt to PROVIDER:MODEL and print the answer as it arrives."""
    from ..errors import UsageError
    from ..redact import redact
    from ..services.ask import ask as run_ask

    actx = app_ctx(ctx)
    if prompt in (None, "-"):
        if prompt is None and (sys.stdin is None or sys.stdin.isatty()):
            raise UsageError("no prompt given", "aimo ask -m PROVIDER:MODEL \"your question\" (or pipe it in with -).")
        prompt = sys.stdin.read()
    out = actx.out.stdout

    def emit(text: str) -> None:
        out.write(redact(text))
        out.flush()

    result = run_ask(actx, model, prompt or "", system=system, max_tokens=max_tokens, temperature=temperature, stream=not no_stream, on_text=emit)
    out.write("\n")
    if result.dropped:
        actx.out.info(f"{result.provider} rejected {', '.join(result.dropped)} for {result.model}; aimo dropped it and will not send it again.")
