"""`vertexmeter models`."""

from __future__ import annotations

import click

from vertexmeter.cli.common import output_option, print_json, show, table


@click.command("models")
@output_option
def models_command(human: bool) -> None:
    """List the model registry: tokenizer, limits, modalities, billing unit, aliases."""
    from vertexmeter.registry import all_models

    models = all_models()
    if not human:
        print_json([
            {
                "id": m.id, "generation": m.generation, "tokenizer": m.tokenizer,
                "inputTokenLimit": m.input_token_limit, "outputTokenLimit": m.output_token_limit,
                "modalities": list(m.modalities), "billedBy": m.billed_by, "aliases": list(m.aliases),
                "format": "instances" if m.is_legacy else "contents", "confidence": m.confidence,
            }
            for m in models
        ])
        return
    out = table(
        "vertexmeter models", "model", "tokenizer", "input", "output", "billed by", "format", "aliases",
        numeric=("input", "output"),
    )
    for m in models:
        out.add_row(
            m.id, m.tokenizer, f"{m.input_token_limit:,}", f"{m.output_token_limit:,}", m.billed_by,
            m.instance_schema or "contents", ", ".join(m.aliases),
        )
    show(out, optional=("format", "aliases"))
