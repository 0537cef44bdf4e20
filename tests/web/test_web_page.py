"""The page at `GET /` in a real headless Chromium against a real `vertexmeter serve` on loopback:
the numbers it shows equal the library's for the same input, dropped files become media parts, the
comparison is sorted by cost, it works from the keyboard and on a narrow screen, and no request ever
leaves loopback (checked last, over every request of the session)."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import vertexmeter
from tests.web.web_helpers import ARTIFACTS, WEB_KEY, Browser, Served
from vertexmeter.server.estimating import estimate_from_body

pytestmark = pytest.mark.slow  # drives Chromium against a served page

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect
expect.set_options(timeout=20_000)

MODEL = "gemini-2.5-flash"
TEXT = "The quick brown fox jumps over the lazy dog. Ünïcödé, 漢字 and 🙂 split across pieces.\nSecond line."
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "web.png"


def text_body(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": list(parts)}]}


def library_total(body: dict[str, Any], *, api: str = "vertex", model: str = MODEL) -> int:
    return int(vertexmeter.count_tokens(model, body, api=api)["totalTokens"])


def library_cost(body: dict[str, Any], date: str, *, model: str = MODEL, output_tokens: int = 200) -> str:
    options = {"mode": "online", "outputTokens": output_tokens, "date": date}
    return str(estimate_from_body(model, {**body, "estimateOptions": options}).to_json()["total"])


def open_page(page: Any, served: Served) -> None:
    page.goto(served.base_url + "/")
    expect(page.get_by_test_id("model-select")).to_have_value(MODEL)  # the model list has loaded


def png_bytes(width: int, height: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height))
    for x in range(0, width, 16):  # stripes, so that the file is a real picture and not a flat colour
        image.paste((x % 256, 80, 160), (x, 0, min(x + 8, width), height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def compared(page: Any) -> list[str]:
    return [chip.get_attribute("data-model") or "" for chip in page.get_by_test_id("compare-chip").all()]


def choose_compare(page: Any, models: list[str]) -> None:
    """The comparison set to exactly `models`: every chip removed with its button, then each name typed."""
    while page.get_by_test_id("compare-remove").count():
        page.get_by_test_id("compare-remove").first.click()
    for model in models:
        page.get_by_test_id("compare-add").fill(model)
        page.get_by_test_id("compare-add").press("Enter")
    expect(page.get_by_test_id("compare-chip")).to_have_count(len(models))
    assert compared(page) == models


def drop_file(page: Any, name: str, mime: str, data: bytes) -> None:
    """A real drop event with a DataTransfer holding the file, as the browser fires for a dragged file."""
    page.evaluate(
        """([name, mime, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const zone = document.querySelector('[data-testid="drop-zone"]');
            zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        [name, mime, base64.b64encode(data).decode()],
    )


def test_typed_text_shows_the_library_count_pieces_and_cost(server: Served, page: Any) -> None:
    open_page(page, server)
    page.get_by_test_id("prompt-input").fill(TEXT)
    body = text_body({"text": TEXT})
    expect(page.get_by_test_id("total-tokens")).to_have_attribute("data-value", str(library_total(body)))
    expect(page.get_by_test_id("modality-TEXT")).to_have_text(f"{library_total(body):,}")
    # The picker offers every registry model once; its aliases are folded into its option, not rows of their own.
    options = page.get_by_test_id("model-select").locator("option")
    offered = options.evaluate_all("o => o.map(x => [x.value, x.title])")
    assert [value for value, _ in offered] == [m.id for m in vertexmeter.all_models() if not m.is_legacy] + [
        m.id for m in vertexmeter.all_models() if m.is_legacy
    ]
    titles = dict(offered)
    for m in vertexmeter.all_models():
        assert all(alias in titles[m.id] for alias in m.aliases), m.id

    as_of = page.get_by_test_id("as-of").input_value()
    # For plain text generateContent bills what countTokens says: no second figure, a note instead.
    assert vertexmeter.usage_metadata(MODEL, body, as_of=as_of)["promptTokenCount"] == library_total(body)
    expect(page.get_by_test_id("billed-note")).to_have_text("generateContent bills the same promptTokenCount.")
    expect(page.get_by_test_id("billed-tokens")).to_be_hidden()
    expected_cost = library_cost(body, as_of)
    expect(page.get_by_test_id("total-cost")).to_have_attribute("data-value", expected_cost)
    assert page.get_by_test_id("total-cost").inner_text() == f"${expected_cost}"

    # computeTokens pieces: as many as the library lists, and together they spell the text exactly.
    listed = vertexmeter.compute_tokens(MODEL, body)["tokensInfo"]
    ids = [token_id for info in listed for token_id in info["tokenIds"]]
    pieces = page.get_by_test_id("token-pieces").locator("span[data-id]")
    expect(pieces).to_have_count(len(ids))
    assert [span.get_attribute("data-id") for span in pieces.all()] == [str(i) for i in ids]
    assert "".join(pieces.all_inner_texts()).replace("\u200b", "") == TEXT
    assert pieces.first.get_attribute("title").startswith(f"id {ids[0]} · ")

    # Another mode and more output tokens: the page's figure is still the library's.
    page.get_by_test_id("output-slider").fill("5000")
    page.get_by_role("button", name="batch").click()
    batch = estimate_from_body(
        MODEL, {**body, "estimateOptions": {"mode": "batch", "outputTokens": 5000, "date": as_of}}
    ).to_json()["total"]
    expect(page.get_by_test_id("total-cost")).to_have_attribute("data-value", str(batch))
    expect(page.get_by_test_id("line-items").locator("tbody tr")).to_have_count(2)

    # Thinking tokens are billed as output.
    page.get_by_test_id("thinking-slider").fill("1000")
    thinking = estimate_from_body(
        MODEL,
        {**body, "estimateOptions": {"mode": "batch", "outputTokens": 5000, "thinkingTokens": 1000, "date": as_of}},
    ).to_json()["total"]
    assert Decimal(str(thinking)) > Decimal(str(batch))
    expect(page.get_by_test_id("total-cost")).to_have_attribute("data-value", str(thinking))


def test_request_body_in_either_dialect(server: Served, page: Any) -> None:
    open_page(page, server)
    body = {
        "contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}],
        "systemInstruction": {"parts": [{"text": "Answer in one word."}]},
    }
    page.get_by_test_id("kind-json").check()
    page.get_by_test_id("prompt-input").fill(json.dumps(body))
    expect(page.get_by_test_id("total-tokens")).to_have_attribute("data-value", str(library_total(body)))
    page.get_by_test_id("dialect-select").select_option("gemini")
    # On the Gemini API a generateContent body is counted as `generateContentRequest`.
    gemini = {"generateContentRequest": {"model": f"models/{MODEL}", **body}}
    expect(page.get_by_test_id("total-tokens")).to_have_attribute(
        "data-value", str(library_total(gemini, api="gemini"))
    )
    assert library_total(gemini, api="gemini") != library_total(body)  # the dialects really differ here
    gemini_cost = estimate_from_body(
        MODEL,
        {
            **body,
            "estimateOptions": {
                "mode": "online",
                "outputTokens": 200,
                "date": page.get_by_test_id("as-of").input_value(),
            },
        },
        api="gemini",
    ).to_json()["total"]
    expect(page.get_by_test_id("total-cost")).to_have_attribute("data-value", str(gemini_cost))
    billed = vertexmeter.usage_metadata(MODEL, body, api="gemini")["promptTokenCount"]
    expect(page.get_by_test_id("cost-note")).to_contain_text(f"billed prompt {billed} tokens")
    page.get_by_test_id("prompt-input").fill('{"contents": [}')
    expect(page.get_by_test_id("error")).to_contain_text("not valid JSON")


def test_dropped_png_shows_image_tokens(server: Served, page: Any) -> None:
    open_page(page, server)
    page.get_by_test_id("prompt-input").fill("Describe this picture in one sentence.")
    png = png_bytes(1200, 800)
    drop_file(page, "stripes.png", "image/png", png)
    expect(page.get_by_test_id("file-chip")).to_contain_text("stripes.png")
    body = text_body(
        {"text": "Describe this picture in one sentence."},
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}},
    )
    counted = vertexmeter.count_tokens(MODEL, body)
    image_tokens = next(d["tokenCount"] for d in counted["promptTokensDetails"] if d["modality"] == "IMAGE")
    assert image_tokens > 0
    expect(page.get_by_test_id("total-tokens")).to_have_attribute("data-value", str(counted["totalTokens"]))
    expect(page.get_by_test_id("modality-IMAGE")).to_have_text(f"{image_tokens:,}")
    expect(page.get_by_test_id("part-row")).to_have_count(2)
    as_of = page.get_by_test_id("as-of").input_value()
    # Vertex bills a lone image on generateContent differently from its countTokens answer: both shown.
    billed = vertexmeter.usage_metadata(MODEL, body, as_of=as_of)["promptTokenCount"]
    assert billed != counted["totalTokens"]
    expect(page.get_by_test_id("billed-tokens")).to_have_attribute("data-value", str(billed))
    expect(page.get_by_test_id("billed-tokens")).to_be_visible()
    billed_image = next(
        d["tokenCount"]
        for d in vertexmeter.usage_metadata(MODEL, body, as_of=as_of)["promptTokensDetails"]
        if d["modality"] == "IMAGE"
    )
    expect(page.get_by_test_id("billed-modality-IMAGE")).to_have_text(f"{billed_image:,}")
    limit = vertexmeter.resolve(MODEL).input_token_limit
    expect(page.get_by_test_id("context-text")).to_contain_text(f"{billed:,} of {limit:,} input tokens, billed")
    expect(page.get_by_test_id("total-cost")).to_have_attribute("data-value", library_cost(body, as_of))
    expect(page.locator('[data-testid="compare-row"]')).to_have_count(5)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page.png"), full_page=True)
    if os.environ.get("VERTEXMETER_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(README_SCREENSHOT), full_page=True)
    assert (ARTIFACTS / "page.png").stat().st_size > 10_000

    # Removing the file (keyboard: the chip's button) drops the image from the count.
    page.get_by_role("button", name="Remove stripes.png").press("Enter")
    expect(page.get_by_test_id("modality-IMAGE")).to_have_count(0)

    # A text file the browser gives no type: its MIME comes from the extension, its tokens are TEXT.
    notes = "Meeting notes: ship the web page, then the docs.\n" * 10
    drop_file(page, "notes.txt", "", notes.encode())
    expect(page.get_by_test_id("file-chip")).to_contain_text("text/plain")
    with_notes = text_body(
        {"text": "Describe this picture in one sentence."},
        {"inlineData": {"mimeType": "text/plain", "data": base64.b64encode(notes.encode()).decode()}},
    )
    expect(page.get_by_test_id("total-tokens")).to_have_attribute("data-value", str(library_total(with_notes)))


def test_model_comparison_is_sorted_by_cost_and_matches_the_library(server: Served, page: Any) -> None:
    open_page(page, server)
    prompt = "Summarise the plot of Hamlet in three sentences. " * 20
    page.get_by_test_id("prompt-input").fill(prompt)
    chosen = ["gemini-2.5-pro", "gemini-2.0-flash-lite", "gemini-2.5-flash", "gemini-3-pro-preview", "gemini-1.5-pro"]
    choose_compare(page, chosen)
    body = text_body({"text": prompt})
    as_of = page.get_by_test_id("as-of").input_value()
    expected: dict[str, str] = {}
    for model in chosen:
        with contextlib.suppress(vertexmeter.VertexMeterError):  # unpriced: the page lists it apart
            expected[model] = library_cost(body, as_of, model=model)
    assert len(expected) >= 3
    rows = page.get_by_test_id("compare-row")
    expect(rows).to_have_count(len(expected))
    expect(page.get_by_test_id("compare-refused")).to_have_count(len(chosen) - len(expected))
    shown = [(row.get_attribute("data-model"), row.get_attribute("data-total")) for row in rows.all()]
    assert dict(shown) == expected
    totals = [Decimal(total or "") for _, total in shown]
    assert totals == sorted(totals)
    assert shown[0][0] == min(expected, key=lambda m: Decimal(expected[m]))


def test_the_pages_decimal_order_is_exact(server: Served, page: Any) -> None:
    """The comparison sorts USD decimal strings without floats: differential against Python's Decimal."""
    rng = random.Random(13)
    numbers = ["0", "0.1", "0.09", "10", "9.99", "1.50", "1.5", "0.00025285", "0.0002528", "0.000000000000000001"]
    for _ in range(150):
        numbers.append(format(Decimal(rng.randrange(10 ** rng.randrange(1, 12))).scaleb(-rng.randrange(0, 14)), "f"))
    pairs = [[a, b] for a in numbers[:40] for b in numbers[:40]]
    pairs += [[rng.choice(numbers), rng.choice(numbers)] for _ in range(2000)]
    open_page(page, server)
    signs = page.evaluate("(pairs) => pairs.map(([a, b]) => Math.sign(cmpDecimal(a, b)))", pairs)
    expected = [(Decimal(a) > Decimal(b)) - (Decimal(a) < Decimal(b)) for a, b in pairs]
    wrong = [(a, b, s, e) for (a, b), s, e in zip(pairs, signs, expected, strict=True) if s != e]
    assert not wrong, wrong[:5]


def test_keyboard_only_on_a_narrow_screen(server: Served, browser: Browser) -> None:
    page = browser.context.new_page()
    try:
        # Listening from the start makes Playwright intercept file choosers before any key is pressed
        # (expect_file_chooser() switches interception on lazily and can miss a fast dialog).
        choosers: list[Any] = []
        page.on("filechooser", lambda chooser: choosers.append(chooser))
        page.set_viewport_size({"width": 390, "height": 844})
        open_page(page, server)
        focused: list[str | None] = []
        for _ in range(12):  # Tab from the top reaches the controls in order
            page.keyboard.press("Tab")
            focused.append(page.evaluate("document.activeElement && document.activeElement.dataset.testid"))
            if focused[-1] == "prompt-input":
                break
        assert focused[-1] == "prompt-input", focused
        assert focused.index("model-select") < focused.index("dialect-select") < focused.index("prompt-input")
        page.keyboard.type("Hello from the keyboard")
        body = text_body({"text": "Hello from the keyboard"})
        expect(page.get_by_test_id("total-tokens")).to_have_attribute("data-value", str(library_total(body)))
        # Back to the dialect picker and switch it with the arrow keys.
        for _ in range(6):
            page.keyboard.press("Shift+Tab")
            if page.evaluate("document.activeElement.dataset.testid") == "dialect-select":
                break
        page.keyboard.press("ArrowDown")
        expect(page.get_by_test_id("dialect-select")).to_have_value("gemini")
        expect(page.get_by_test_id("total-tokens")).to_have_attribute(
            "data-value", str(library_total(body, api="gemini"))
        )
        # On to the file picker (Tab), open it with Space, pick a PNG: its IMAGE tokens appear.
        stops = []
        for _ in range(8):
            page.keyboard.press("Tab")
            stops.append(page.evaluate("document.activeElement.dataset.testid || document.activeElement.id"))
            if stops[-1] == "file-input":
                break
        assert stops[-1] == "file-input", stops
        page.keyboard.press("Space")
        deadline = 100
        while not choosers and deadline:
            page.wait_for_timeout(100)
            deadline -= 1
        assert choosers, "Space on the focused file input opened no file chooser"
        png = png_bytes(300, 200)
        choosers[0].set_files(files=[{"name": "small.png", "mimeType": "image/png", "buffer": png}])
        with_image = text_body(
            {"text": "Hello from the keyboard"},
            {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}},
        )
        image = vertexmeter.count_tokens(MODEL, with_image, api="gemini")["promptTokensDetails"]
        expect(page.get_by_test_id("modality-IMAGE")).to_have_text(
            f"{next(d['tokenCount'] for d in image if d['modality'] == 'IMAGE'):,}"
        )
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px wide"
        page.screenshot(path=str(ARTIFACTS / "page-narrow.png"), full_page=True)
    finally:
        page.close()


def test_api_key_field_when_keys_are_configured(keyed_server: Served, page: Any) -> None:
    open_page(page, keyed_server)
    key = page.get_by_test_id("api-key")
    expect(key).to_be_visible()
    page.get_by_test_id("prompt-input").fill("Who holds the key?")
    expect(page.get_by_test_id("error")).to_contain_text("UNAUTHENTICATED")
    key.fill("not-the-key")
    key.press("Enter")
    expect(page.get_by_test_id("error")).to_contain_text("PERMISSION_DENIED")
    key.fill(WEB_KEY)
    key.press("Enter")
    body = text_body({"text": "Who holds the key?"})
    expect(page.get_by_test_id("total-tokens")).to_have_attribute("data-value", str(library_total(body)))
    expect(page.get_by_test_id("error")).to_be_hidden()


def batch_file(path: Path, lines: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            request = {"contents": [{"role": "user", "parts": [{"text": f"Question {i}: what is {i} squared?"}]}]}
            out.write(json.dumps({"key": f"q{i}", "request": request}) + "\n")
        out.write("{not json\n")
    return path


def test_batch_upload_shows_the_engine_summary_and_progress(server: Served, page: Any, tmp_path: Path) -> None:
    from vertexmeter.batch import estimate_batch

    open_page(page, server)
    jsonl = batch_file(tmp_path / "questions.jsonl", 150)
    page.get_by_test_id("batch-input").set_input_files(str(jsonl))
    expect(page.get_by_test_id("batch-status")).to_contain_text("Done", timeout=60_000)
    as_of = page.get_by_test_id("as-of").input_value()
    summary = estimate_batch(str(jsonl), MODEL, output_tokens=200, as_of=as_of, workers=1).summary()
    assert summary["lines"] == 151 and summary["counted"] == 150
    expect(page.get_by_test_id("batch-lines")).to_have_text("151")
    expect(page.get_by_test_id("batch-counted")).to_have_text("150")
    expect(page.get_by_test_id("batch-errors")).to_have_text("1")
    expect(page.get_by_test_id("batch-prompt-tokens")).to_have_text(f"{summary['prompt_tokens']:,}")
    expect(page.get_by_test_id("batch-total")).to_have_text(f"${summary['cost']['total']['min']}")
    expect(page.get_by_test_id("batch-progress")).to_have_attribute("aria-valuenow", "100")


def test_docs_work_offline(server: Served, page: Any) -> None:
    page.goto(server.base_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("vertexmeter token server")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()


def test_compare_picker_adds_and_removes_without_losing_the_choice(server: Served, page: Any) -> None:
    """Was: a native multi-select, where typing a name or a plain click replaced the chosen models."""
    open_page(page, server)
    page.get_by_test_id("prompt-input").fill("Compare me.")
    start = compared(page)
    assert len(start) == 5
    expect(page.locator('[data-testid="compare-row"], [data-testid="compare-refused"]')).to_have_count(5)
    box, hint = page.get_by_test_id("compare-add"), page.get_by_test_id("compare-hint")
    comparable = [m for m in vertexmeter.all_models() if not m.is_legacy]

    # Keyboard: type a name, Enter. The others stay.
    new = next(m.id for m in comparable if m.id not in start)
    box.focus()
    page.keyboard.type(new)
    page.keyboard.press("Enter")
    assert compared(page) == [*start, new]
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    # An ambiguous, an unknown and a repeated name change nothing and say why.
    for typed, said in (("flash", "type more of the name"), ("gpt-4o", "No model matches"), (new, "already compared")):
        box.fill(typed)
        box.press("Enter")
        expect(hint).to_contain_text(said)
        assert compared(page) == [*start, new]
    # An alias adds its model; the mouse works too (a unique part of a name, then the Add button).
    aliased = next(m for m in comparable if m.aliases and m.id not in compared(page))
    box.fill(aliased.aliases[0])
    box.press("Enter")
    assert compared(page)[-1] == aliased.id
    rest = [m.id for m in comparable if m.id not in compared(page)]
    part = next(
        (n[-9:] for n in rest if sum(n[-9:] in x.id or any(n[-9:] in a for a in x.aliases) for x in comparable) == 1),
        None,
    )
    assert part is not None
    box.fill(part)
    page.get_by_test_id("compare-add-button").click()
    added = compared(page)[-1]
    assert part in added or any(part in a for a in vertexmeter.resolve(added).aliases)
    chosen = compared(page)
    expect(page.locator('[data-testid="compare-row"], [data-testid="compare-refused"]')).to_have_count(len(chosen))

    # Remove by keyboard: Enter, then Space, on the focused remove button; focus stays on the chips.
    page.get_by_test_id("compare-remove").first.focus()
    page.keyboard.press("Enter")
    assert compared(page) == chosen[1:]
    assert page.evaluate("document.activeElement.dataset.testid") == "compare-remove"
    page.keyboard.press("Space")
    assert compared(page) == chosen[2:]
    # Remove by mouse.
    page.locator(f'[data-testid="compare-remove"][data-model="{chosen[-1]}"]').click()
    assert compared(page) == chosen[2:-1]
    rows = page.locator('[data-testid="compare-row"], [data-testid="compare-refused"]')
    expect(rows).to_have_count(len(chosen) - 3)
    assert sorted(r.get_attribute("data-model") or "" for r in rows.all()) == sorted(chosen[2:-1])


def test_billed_equal_to_counted_is_neutral(server: Served, page: Any) -> None:
    """Was: the billed column was red even where it equals countTokens."""
    open_page(page, server)
    page.get_by_test_id("prompt-input").fill("What is in this picture?")
    png = png_bytes(1200, 800)
    drop_file(page, "stripes.png", "image/png", png)
    body = text_body(
        {"text": "What is in this picture?"},
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}},
    )
    as_of = page.get_by_test_id("as-of").input_value()
    counted = {d["modality"]: d["tokenCount"] for d in vertexmeter.count_tokens(MODEL, body)["promptTokensDetails"]}
    billed = {
        d["modality"]: d["tokenCount"]
        for d in vertexmeter.usage_metadata(MODEL, body, as_of=as_of)["promptTokensDetails"]
    }
    assert counted["TEXT"] == billed["TEXT"] and counted["IMAGE"] != billed["IMAGE"]
    expect(page.get_by_test_id("billed-modality-IMAGE")).to_have_text(f"{billed['IMAGE']:,}")
    expect(page.get_by_test_id("billed-modality-TEXT")).to_have_text(f"{billed['TEXT']:,}")

    def colour(testid: str) -> str:
        return str(page.get_by_test_id(testid).evaluate("e => getComputedStyle(e).color"))

    assert colour("billed-modality-TEXT") == colour("modality-TEXT")
    assert colour("billed-modality-IMAGE") != colour("modality-IMAGE")


def test_cjk_text_renders_or_says_why(server: Served, page: Any) -> None:
    """Was: CJK pieces drawn as boxes on a machine without a CJK font, with no word why."""
    import shutil
    import subprocess

    open_page(page, server)
    text = "日本語のテキスト and 한국어"
    page.get_by_test_id("prompt-input").fill(text)
    pieces = page.get_by_test_id("token-pieces").locator("span[data-id]")
    ids = [i for info in vertexmeter.compute_tokens(MODEL, text)["tokensInfo"] for i in info["tokenIds"]]
    expect(pieces).to_have_count(len(ids))
    assert "".join(pieces.all_inner_texts()).replace("\u200b", "") == text  # the characters stay in the text
    no_font = page.evaluate("noCjkFont()")
    if shutil.which("fc-list"):  # the page's measurement agrees with fontconfig, which Chromium draws with
        fonts = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, check=True).stdout
        assert no_font == (not fonts.strip())
    points = page.get_by_test_id("token-pieces").locator(".codepoint")
    if no_font:
        expect(page.get_by_test_id("font-note")).to_be_visible()
        expect(points).to_have_count(sum(1 for c in text if not c.isascii()))
        assert points.first.evaluate("e => getComputedStyle(e, '::after').content") == '"U+65E5"'
    else:
        expect(page.get_by_test_id("font-note")).to_be_hidden()
        expect(points).to_have_count(0)
    page.get_by_test_id("prompt-input").fill("plain ASCII")
    expect(page.get_by_test_id("font-note")).to_be_hidden()


def test_no_request_left_loopback(server: Served, browser: Browser, page: Any) -> None:
    """Every request the browser made in this session (this test's own page and /docs included, and
    every earlier test's when the module runs whole) went to a test server on 127.0.0.1."""
    open_page(page, server)
    page.get_by_test_id("prompt-input").fill("Where do my requests go?")
    drop_file(page, "tiny.png", "image/png", png_bytes(64, 64))
    expect(page.get_by_test_id("modality-IMAGE")).to_be_visible()
    expect(page.get_by_test_id("compare-row").first).to_be_visible()
    page.goto(server.base_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("vertexmeter token server")
    assert len(browser.requests) > 20
    hosts = {request.split("/")[2] for request in browser.requests if not request.startswith(("data:", "blob:"))}
    assert hosts and all(host.startswith("127.0.0.1:") for host in hosts), hosts
