"""Media parts (inlineData / fileData): how many tokens an image, video, audio or document costs.

The counting engine calls `count_media_part` for every media part of a prompt, passing in what media
needs from counting (`MediaContext`: the tokenizer's count, billable characters); media never imports
counting. The work lives in modules: `types` (options, context, counts), `mime` (types and sniffing),
`inspect` (reading media headers), `rules` + `rules.yaml` (token rules per model generation),
`sources` (fileData URIs), `counter` (putting them together). docs/media.md documents every rule.
"""

from __future__ import annotations

from typing import Any

from vertexmeter.media.mime import file_mime, parse_mime
from vertexmeter.media.types import MediaContext, MediaCount, MediaOptions, MediaTally
from vertexmeter.vocabulary import GENERATE_CONTENT


def count_media_part(part: dict[str, Any], path: str, context: MediaContext) -> list[MediaCount]:
    """The MediaCounts of one part (`inlineData`, `fileData` or `legacyMedia`) at field path `path`."""
    # Imported here so that a text-only count never loads the media readers (ssl, http, pypdf, av).
    from vertexmeter.media.counter import count_part

    return count_part(part, path, context)


def is_media_item(part: dict[str, Any]) -> bool:
    """Whether a media part counts as one of the prompt's media items for the lone-item tiling (rules.yaml
    `lone_item_tiles`): a text document (`text/plain`, …) is read as text, not as a media item; a part without a
    declared mimeType counts (its bytes are not read here)."""
    for name in ("inlineData", "fileData"):
        value = part.get(name)
        if isinstance(value, dict) and isinstance(value.get("mimeType"), str):
            return parse_mime(value["mimeType"]).family != "text"
    return True


def generated_image_tokens(generation: str, api: str) -> int | None:
    """What one image a model of `generation` generates costs at its default output size (rules.yaml
    `output_image`), or None when the generation generates no images."""
    from vertexmeter.media.rules import rules_for  # here: a text count never loads the media rules

    return rules_for(generation, api, GENERATE_CONTENT).output_image_tokens


__all__ = [
    "MediaContext",
    "MediaCount",
    "MediaOptions",
    "MediaTally",
    "count_media_part",
    "file_mime",
    "generated_image_tokens",
    "is_media_item",
]
