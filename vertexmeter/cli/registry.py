"""`vertexmeter models`."""

from __future__ import annotations

import click

from vertexmeter.cli.common import output_option, print_json, show, table


@click.command("models")
@click.option("--all", "everything", is_flag=True, help="Also the models priced but not counted offline, and why.")
@output_option
def models_command(everything: bool, human: bool) -> None:
    """List the model registry: tokenizer, limits, modalities, billing unit, aliases."""
    from vertexmeter.registry import all_models, not_countable

    models = all_models()
    refused = not_countable() if everything else {}
    if not human:
        listed = [
            {
                "id": m.id,
                "generation": m.generation,
                "tokenizer": m.tokenizer,
                "inputTokenLimit": m.input_token_limit,
                "outputTokenLimit": m.output_token_limit,
                "modalities": list(m.modalities),
                "billedBy": m.billed_by,
                "aliases": list(m.aliases),
                "format": "instances" if m.is_legacy else "contents",
                "confidence": m.confidence,
                **({"confidenceReason": m.confidence_reason} if m.confidence_reason else {}),
            }
            for m in models
        ]
        listed += [
            {"id": name, "countable": False, "kind": entry.kind, "reason": entry.reason}
            for name, entry in refused.items()
        ]
        print_json(listed)
        return
    out = table(
        "vertexmeter models",
        "model",
        "tokenizer",
        "input",
        "output",
        "billed by",
        "format",
        "aliases",
        numeric=("input", "output"),
    )
    for m in models:
        out.add_row(
            m.id,
            m.tokenizer + (" (inferred)" if m.count_is_inferred else ""),
            f"{m.input_token_limit:,}",
            f"{m.output_token_limit:,}",
            m.billed_by,
            m.instance_schema or "contents",
            ", ".join(m.aliases),
        )
    for name, entry in refused.items():
        out.add_row(name, "not counted", "-", "-", "-", entry.kind, entry.reason)
    show(out, optional=("format", "aliases"))
