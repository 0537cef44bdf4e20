"""The request messages of countTokens / computeTokens / generateContent as data: field -> (proto name, kind, repeated).

Kinds: string, bool, int32, int64, double, bytes, duration, value (any JSON), struct (a JSON
object), enum:<Name>, map:<Message>, or a message name. Two sources, merged: `genai_schema.json`, generated
from the newest google-genai release's types (tools/schema_from_genai.py), and the REST facts listed below
by hand from googleapis' aiplatform v1/v1beta1 and generativelanguage v1beta protos (request envelopes, wire
kinds such as durations and int32, fields the SDK does not model). Unknown keys are refused as Google does.
"""

from __future__ import annotations

from dataclasses import dataclass

from vertexmeter.datafiles import load_yaml


@dataclass(frozen=True)
class Field:
    json_name: str
    proto_name: str
    kind: str
    repeated: bool = False


def snake_case(name: str) -> str:
    """A JSON (lowerCamelCase) field name as its proto name: `inlineData` -> `inline_data`."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _message(*fields: tuple[str, str] | tuple[str, str, bool]) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for spec in fields:
        json_name, kind = spec[0], spec[1]
        repeated = bool(spec[2]) if len(spec) > 2 else False
        out[json_name] = Field(json_name, snake_case(json_name), kind, repeated)
    return out


ENUMS: dict[str, tuple[str, ...]] = {
    "Type": ("TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"),
    "MediaResolution": (
        "MEDIA_RESOLUTION_UNSPECIFIED",
        "MEDIA_RESOLUTION_LOW",
        "MEDIA_RESOLUTION_MEDIUM",
        "MEDIA_RESOLUTION_HIGH",
        "MEDIA_RESOLUTION_ULTRA_HIGH",
    ),
    "Language": ("LANGUAGE_UNSPECIFIED", "PYTHON"),
    "Outcome": ("OUTCOME_UNSPECIFIED", "OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"),
    "Modality": ("MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO", "VIDEO", "DOCUMENT"),
    "Behavior": ("UNSPECIFIED", "BLOCKING", "NON_BLOCKING"),
}
# Enums listed above in proto number order: an integer value (proto3 JSON allows them) reads as its name. Other
# enums are numbered differently per API (HarmCategory), so an integer stays the number.
NUMBERED_ENUMS = frozenset(ENUMS)

_HAND_MESSAGES: dict[str, dict[str, Field]] = {
    "Content": _message(("role", "string"), ("parts", "Part", True)),
    "Part": _message(
        ("text", "string"),
        ("inlineData", "Blob"),
        ("fileData", "FileData"),
        ("functionCall", "FunctionCall"),
        ("functionResponse", "FunctionResponse"),
        ("executableCode", "ExecutableCode"),
        ("codeExecutionResult", "CodeExecutionResult"),
        ("thought", "bool"),
        ("thoughtSignature", "bytes"),
        ("videoMetadata", "VideoMetadata"),
        ("mediaResolution", "PartMediaResolution"),
        # Server-side tool invocations replayed in history (Gemini 3, toolConfig.includeServerSideToolInvocations).
        ("toolCall", "value"),
        ("toolResponse", "value"),
        ("partMetadata", "struct"),
    ),
    "Blob": _message(("mimeType", "string"), ("data", "bytes"), ("displayName", "string")),
    "FileData": _message(("mimeType", "string"), ("fileUri", "string"), ("displayName", "string")),
    "FunctionCall": _message(("id", "string"), ("name", "string"), ("args", "struct")),
    "FunctionResponse": _message(
        ("id", "string"),
        ("name", "string"),
        ("response", "struct"),
        ("willContinue", "bool"),
        ("scheduling", "value"),
        ("parts", "value", True),
    ),
    "ExecutableCode": _message(("id", "string"), ("language", "enum:Language"), ("code", "string")),
    "CodeExecutionResult": _message(("id", "string"), ("outcome", "enum:Outcome"), ("output", "string")),
    "VideoMetadata": _message(("startOffset", "duration"), ("endOffset", "duration"), ("fps", "double")),
    "PartMediaResolution": _message(("level", "enum:MediaResolution"), ("numTokens", "int32")),
    "Tool": _message(
        ("functionDeclarations", "FunctionDeclaration", True),
        ("retrieval", "value"),
        ("googleSearchRetrieval", "value"),
        ("googleSearch", "value"),
        ("googleMaps", "value"),
        ("enterpriseWebSearch", "value"),
        ("codeExecution", "value"),
        ("urlContext", "value"),
        ("computerUse", "value"),
        ("fileSearch", "value"),
    ),
    "FunctionDeclaration": _message(
        ("name", "string"),
        ("description", "string"),
        ("parameters", "Schema"),
        ("parametersJsonSchema", "value"),
        ("response", "Schema"),
        ("responseJsonSchema", "value"),
        ("behavior", "enum:Behavior"),
    ),
    "Schema": _message(
        ("type", "enum:Type"),
        ("format", "string"),
        ("title", "string"),
        ("description", "string"),
        ("nullable", "bool"),
        ("default", "value"),
        ("items", "Schema"),
        ("minItems", "int64"),
        ("maxItems", "int64"),
        ("enum", "string", True),
        ("properties", "map:Schema"),
        ("propertyOrdering", "string", True),
        ("required", "string", True),
        ("minProperties", "int64"),
        ("maxProperties", "int64"),
        ("minimum", "double"),
        ("maximum", "double"),
        ("minLength", "int64"),
        ("maxLength", "int64"),
        ("pattern", "string"),
        ("example", "value"),
        ("anyOf", "Schema", True),
        ("additionalProperties", "value"),
        ("ref", "string"),
        ("defs", "map:Schema"),
    ),
    "GenerationConfig": _message(
        ("temperature", "double"),
        ("topP", "double"),
        ("topK", "double"),
        ("candidateCount", "int32"),
        ("maxOutputTokens", "int32"),
        ("stopSequences", "string", True),
        ("presencePenalty", "double"),
        ("frequencyPenalty", "double"),
        ("seed", "int32"),
        ("responseMimeType", "string"),
        ("responseSchema", "Schema"),
        ("responseJsonSchema", "value"),
        ("responseLogprobs", "bool"),
        ("logprobs", "int32"),
        ("responseModalities", "enum:Modality", True),
        ("mediaResolution", "enum:MediaResolution"),
        ("speechConfig", "value"),
        ("thinkingConfig", "ThinkingConfig"),
        ("imageConfig", "value"),
        ("routingConfig", "value"),
        ("modelConfig", "value"),
        ("audioTimestamp", "bool"),
        ("enableAffectiveDialog", "bool"),
        ("enableEnhancedCivicAnswers", "bool"),
    ),
    "ThinkingConfig": _message(("includeThoughts", "bool"), ("thinkingBudget", "int32"), ("thinkingLevel", "string")),
    "SafetySetting": _message(("category", "string"), ("threshold", "string"), ("method", "string")),
    "ToolConfig": _message(
        ("functionCallingConfig", "FunctionCallingConfig"),
        ("retrievalConfig", "value"),
        ("includeServerSideToolInvocations", "bool"),
    ),
    "FunctionCallingConfig": _message(
        ("mode", "string"), ("allowedFunctionNames", "string", True), ("streamFunctionCallArguments", "bool")
    ),
    # embedContent / batchEmbedContents (Gemini API; Vertex's embedContent takes the same core fields).
    "EmbedContentRequest": _message(
        ("model", "string"),
        ("content", "Content"),
        ("taskType", "string"),
        ("title", "string"),
        ("outputDimensionality", "int32"),
        ("autoTruncate", "bool"),
        ("embedContentConfig", "value"),
    ),
    "BatchEmbedContentsRequest": _message(("requests", "EmbedContentRequest", True)),
    # Vertex AI (aiplatform v1 / v1beta1).
    "VertexCountTokensRequest": _message(
        ("endpoint", "string"),
        ("model", "string"),
        ("instances", "value", True),
        ("contents", "Content", True),
        ("systemInstruction", "Content"),
        ("tools", "Tool", True),
        ("generationConfig", "GenerationConfig"),
    ),
    "VertexGenerateContentRequest": _message(
        ("model", "string"),
        ("contents", "Content", True),
        ("systemInstruction", "Content"),
        ("cachedContent", "string"),
        ("tools", "Tool", True),
        ("toolConfig", "ToolConfig"),
        ("labels", "struct"),
        ("safetySettings", "SafetySetting", True),
        ("modelArmorConfig", "value"),
        ("generationConfig", "GenerationConfig"),
    ),
    "VertexComputeTokensRequest": _message(
        ("endpoint", "string"),
        ("model", "string"),
        ("instances", "value", True),
        ("contents", "Content", True),
    ),
    # Gemini Developer API (generativelanguage v1 / v1beta).
    "GeminiCountTokensRequest": _message(
        ("model", "string"), ("contents", "Content", True), ("generateContentRequest", "GenerateContentRequest")
    ),
    "GenerateContentRequest": _message(
        ("model", "string"),
        ("contents", "Content", True),
        ("systemInstruction", "Content"),
        ("tools", "Tool", True),
        ("toolConfig", "ToolConfig"),
        ("safetySettings", "SafetySetting", True),
        ("generationConfig", "GenerationConfig"),
        ("cachedContent", "string"),
        ("labels", "struct"),
        ("serviceTier", "value"),
        ("store", "bool"),
    ),
}


def _merged() -> tuple[dict[str, dict[str, Field]], dict[str, tuple[str, ...]], str]:
    """The hand-listed REST facts over the messages google-genai declares: a field in both keeps the hand kind,
    except a hand `string` the SDK types as an enum (its names are then checked, and integers accepted)."""
    generated = load_yaml("vertexmeter.requests", "genai_schema.json")  # JSON is YAML: the one data loader
    messages = {name: dict(fields) for name, fields in _HAND_MESSAGES.items()}
    for name, fields in generated["messages"].items():
        merged = messages.setdefault(name, {})
        for json_name, (kind, repeated) in fields.items():
            hand = merged.get(json_name)
            if hand is None:
                merged[json_name] = Field(json_name, snake_case(json_name), kind, bool(repeated))
            elif hand.kind == "string" and kind.startswith("enum:"):
                merged[json_name] = Field(json_name, hand.proto_name, kind, hand.repeated)
    enums = {name: tuple(values) for name, values in generated["enums"].items()}
    enums.update(ENUMS)
    return messages, enums, str(generated["google_genai_version"])


MESSAGES, ALL_ENUMS, GENAI_SCHEMA_VERSION = _merged()

# Proto type names used in "Invalid value at ... (TYPE)" messages.
SCALAR_TYPE_NAMES = {
    "string": "TYPE_STRING",
    "bool": "TYPE_BOOL",
    "int32": "TYPE_INT32",
    "int64": "TYPE_INT64",
    "double": "TYPE_DOUBLE",
    "bytes": "TYPE_BYTES",
    "duration": "type.googleapis.com/google.protobuf.Duration",
    "struct": "type.googleapis.com/google.protobuf.Struct",
}
