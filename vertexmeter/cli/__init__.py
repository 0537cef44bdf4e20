"""The `vertexmeter` command: one module per command group, registered on `main`."""

from __future__ import annotations

import click

from vertexmeter.cli.batch import batch_command
from vertexmeter.cli.bill import bill_command
from vertexmeter.cli.counting import compute_command, count_command
from vertexmeter.cli.pricing import estimate_command, price_command
from vertexmeter.cli.registry import models_command, tokenizers_group
from vertexmeter.cli.serve import serve_command
from vertexmeter.cli.usage import usage_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vertexmeter")
def main() -> None:
    """Offline, exact Vertex AI / Gemini token counts and costs."""


main.add_command(count_command)
main.add_command(compute_command)
main.add_command(models_command)
main.add_command(tokenizers_group)
main.add_command(serve_command)
main.add_command(price_command)
main.add_command(estimate_command)
main.add_command(bill_command)
main.add_command(usage_command)
main.add_command(batch_command)
