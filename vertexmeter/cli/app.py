"""The `vertexmeter` click group. One line per command below, in the order `--help` lists them; each
command's module is imported only when it runs (CommandGroup.lazy), so a start stays cheap."""

from __future__ import annotations

import click

from vertexmeter.cli.common import CommandGroup


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vertexmeter")
def main() -> None:
    """Offline, exact Vertex AI / Gemini token counts and costs.

    Every command prints JSON (--json, the default) or a table (--human). Exit codes: 0 done,
    1 a request Google would refuse (its error JSON on stderr), 2 bad usage.
    Shell completion: eval "$(_VERTEXMETER_COMPLETE=bash_source vertexmeter)" (zsh_source, fish_source).
    """


main.lazy("count", "vertexmeter.cli.counting:count_command")
main.lazy("usage", "vertexmeter.cli.usage:usage_command")
main.lazy("estimate", "vertexmeter.cli.pricing:estimate_command")
main.lazy("price", "vertexmeter.cli.pricing:price_command")
main.lazy("batch", "vertexmeter.cli.batch:batch_command")
main.lazy("bill", "vertexmeter.cli.bill:bill_command")
main.lazy("compute", "vertexmeter.cli.counting:compute_command")
main.lazy("models", "vertexmeter.cli.registry:models_command")
main.lazy("tokenizers", "vertexmeter.cli.tokenizers:tokenizers_group")
main.lazy("data", "vertexmeter.cli.data:data_group")
main.lazy("serve", "vertexmeter.cli.serve:serve_command")
