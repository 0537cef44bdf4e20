// vertexmeter web page. Vanilla JS, no dependencies; talks only to this server's own JSON routes.
"use strict";

const $ = (id) => document.getElementById(id);
const DEFAULT_MODEL = "gemini-2.5-flash";
const DEFAULT_COMPARE = ["gemini-2.5-flash-lite", "gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", "gemini-3-pro-preview"];
const MAX_PARTS = 24; // parts counted one by one
const MAX_PIECES = 5000; // pieces drawn
const DEBOUNCE_MS = 250;
// The browser may leave `File.type` empty; these are the types the counter knows by extension.
const MIME_BY_EXTENSION = {
  txt: "text/plain", md: "text/plain", csv: "text/csv", json: "application/json", html: "text/html",
  pdf: "application/pdf", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp",
  gif: "image/gif", heic: "image/heic", heif: "image/heif", mp3: "audio/mpeg", wav: "audio/wav",
  flac: "audio/flac", ogg: "audio/ogg", aac: "audio/aac", m4a: "audio/mp4", mp4: "video/mp4",
  mov: "video/quicktime", webm: "video/webm", mpeg: "video/mpeg", avi: "video/x-msvideo",
};
// Legacy (PaLM / Codey / embedding) models take `instances`; plain text goes into this field.
const INSTANCE_OF_TEXT = {
  text: (t) => ({ prompt: t }),
  chat: (t) => ({ messages: [{ author: "user", content: t }] }),
  codechat: (t) => ({ messages: [{ author: "user", content: t }] }),
  code: (t) => ({ prefix: t }),
  code_completion: (t) => ({ prefix: t }),
  embedding: (t) => ({ content: t }),
  multimodal_embedding: (t) => ({ text: t }),
};

const state = {
  models: [], byName: new Map(), modes: ["online"], files: [], authRequired: false,
  countGen: 0, costGen: 0, mode: "online", estimates: {}, batchAvailable: false,
  compare: [], // the models compared, in the order chosen (ids, aliases resolved)
  noCjkFont: null, // whether CJK characters would render as boxes (measured once, see noCjkFont())
};

// ---- helpers ---------------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "class") node.className = v;
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function debounce(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

function fmtInt(n) { return Number(n).toLocaleString("en-US"); }

// Decimal strings ("0.0005021") compared exactly, without floats.
function cmpDecimal(a, b) {
  const [ai, af = ""] = String(a).split(".");
  const [bi, bf = ""] = String(b).split(".");
  const ai2 = ai.replace(/^0+(?=\d)/, ""), bi2 = bi.replace(/^0+(?=\d)/, "");
  if (ai2.length !== bi2.length) return ai2.length - bi2.length;
  if (ai2 !== bi2) return ai2 < bi2 ? -1 : 1;
  const n = Math.max(af.length, bf.length);
  const ap = af.padEnd(n, "0"), bp = bf.padEnd(n, "0");
  return ap === bp ? 0 : ap < bp ? -1 : 1;
}

function money(total) { return total === undefined || total === null ? "—" : `$${total}`; }

function errorText(res) {
  const e = res.data && res.data.error;
  if (e) {
    let text = `${e.code} ${e.status}: ${e.message}`;
    for (const d of e.details || []) {
      for (const v of d.fieldViolations || []) text += `\n  field ${v.field}: ${v.description}`;
    }
    return text;
  }
  return `HTTP ${res.status}`;
}

function showError(text) {
  const box = $("error");
  box.textContent = text || "";
  box.hidden = !text;
}

async function call(path, body) {
  const headers = {};
  const key = $("api-key").value.trim();
  if (key) headers["x-goog-api-key"] = key;
  const init = { method: body === undefined ? "GET" : "POST", headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(path, init);
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    return { ok: response.ok, status: response.status, data };
  } catch (err) {
    return { ok: false, status: 0, data: { error: { code: 0, status: "UNAVAILABLE", message: String(err) } } };
  }
}

const enc = encodeURIComponent;
const paths = {
  count: (dialect, m) => dialect === "gemini" ? `/v1beta/models/${enc(m)}:countTokens`
    : `/v1beta1/publishers/google/models/${enc(m)}:countTokens`,
  compute: (m) => `/v1beta1/publishers/google/models/${enc(m)}:computeTokens`,
  // vertexmeter's extensions, on both APIs' model paths: the bill and its price.
  usage: (dialect, m) => dialect === "gemini" ? `/v1beta/models/${enc(m)}:usageMetadata`
    : `/v1beta1/publishers/google/models/${enc(m)}:usageMetadata`,
  estimate: (dialect, m) => dialect === "gemini" ? `/v1beta/models/${enc(m)}:estimateCost`
    : `/v1beta1/publishers/google/models/${enc(m)}:estimateCost`,
};

// ---- the request ------------------------------------------------------------------------------

function selectedModel() {
  const name = $("model").value;
  return state.byName.get(name) || null;
}

function fileParts() {
  return state.files.map((f) => ({ inlineData: { mimeType: f.mimeType, data: f.data } }));
}

// The body as typed, in Vertex's form ({contents, systemInstruction, tools, …} or {instances}), or
// {error} when it cannot be read, or null when there is nothing to count.
function requestBody() {
  const model = selectedModel();
  const kind = document.querySelector("input[name=kind]:checked").value;
  const text = $("prompt").value;
  if (kind === "text") {
    if (model && model.legacy) {
      if (!text) return null;
      const make = INSTANCE_OF_TEXT[model.instanceSchema] || INSTANCE_OF_TEXT.text;
      return { body: { instances: [make(text)] } };
    }
    const parts = [];
    if (text) parts.push({ text });
    parts.push(...fileParts());
    return parts.length ? { body: { contents: [{ role: "user", parts }] } } : null;
  }
  if (!text.trim() && !state.files.length) return null;
  let body = {};
  if (text.trim()) {
    try { body = JSON.parse(text); } catch (err) { return { error: `The request body is not valid JSON: ${err.message}` }; }
    if (!body || typeof body !== "object" || Array.isArray(body)) return { error: "The request body must be a JSON object." };
  }
  if (body.generateContentRequest && typeof body.generateContentRequest === "object") {
    // The Gemini API's countTokens form: the same request, one level down (its `model` is the path's).
    const { model: _ignored, ...inner } = body.generateContentRequest;
    body = inner;
  }
  if (state.files.length) {
    body = { ...body, contents: [...(body.contents || []), { role: "user", parts: fileParts() }] };
  }
  return { body };
}

// The body for the chosen dialect: the Gemini API's countTokens takes `contents` alone, or a whole
// generateContent request wrapped in `generateContentRequest`.
function dialectBody(body, dialect, modelId) {
  if (dialect !== "gemini" || body.instances) return body;
  const keys = Object.keys(body);
  if (keys.every((k) => k === "contents")) return body;
  return { generateContentRequest: { model: `models/${modelId}`, ...body } };
}

function textOnly(body) {
  if (body.instances) return body;
  const contents = [];
  for (const c of body.contents || []) {
    const parts = (c.parts || []).filter((p) => typeof p.text === "string" && p.text !== "");
    if (parts.length) contents.push({ ...(c.role ? { role: c.role } : {}), parts });
  }
  return contents.length ? { contents } : null;
}

function describePart(part) {
  if (typeof part.text === "string") {
    const t = part.text.replace(/\s+/g, " ");
    return `text “${t.length > 48 ? t.slice(0, 48) + "…" : t}”`;
  }
  if (part.inlineData) {
    const b64 = (part.inlineData.data || "").replace(/\s/g, "");
    const bytes = Math.floor((b64.length * 3) / 4) - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);
    const file = state.files.find((f) => f.data === part.inlineData.data);
    return `${part.inlineData.mimeType} ${file ? file.name + ", " : ""}${fmtInt(bytes)} bytes`;
  }
  if (part.fileData) return `${part.fileData.mimeType || "file"} ${part.fileData.fileUri || ""}`;
  return Object.keys(part).join(", ");
}

// ---- counting ---------------------------------------------------------------------------------

const refreshCounts = debounce(runCounts, DEBOUNCE_MS);
const refreshCosts = debounce(runCosts, DEBOUNCE_MS);

function clearCounts() {
  $("total-tokens").textContent = "—";
  $("total-tokens").dataset.value = "";
  $("billed-box").hidden = true;
  $("billed-tokens").dataset.value = "";
  $("billed-note").textContent = "";
  $("modalities").replaceChildren();
  $("parts").replaceChildren();
  $("pieces").replaceChildren();
  setGauge(0);
}

async function runCounts() {
  const gen = ++state.countGen;
  const model = selectedModel();
  const built = requestBody();
  runCosts();
  if (!model || !built) { clearCounts(); showError(""); return; }
  if (built.error) { clearCounts(); showError(built.error); return; }
  const dialect = $("dialect").value;
  const body = dialectBody(built.body, dialect, model.id);
  const modelName = $("model").value;
  const count = call(paths.count(dialect, modelName), body);
  const text = textOnly(built.body);
  const compute = text ? call(paths.compute(modelName), text) : Promise.resolve(null);
  const billed = model.legacy ? Promise.resolve(null)
    : call(paths.usage(dialect, modelName), { ...built.body, usageOptions: usageOptions() });
  const counted = await count;
  if (gen !== state.countGen) return;
  if (!counted.ok) {
    clearCounts();
    showError(errorText(counted));
  } else {
    showError("");
    renderCount(counted.data, model);
    renderBilled(await billed, counted.data, gen);
  }
  renderPieces(await compute, gen);
  if (counted.ok) await renderParts(built.body, dialect, modelName, gen);
}

function setGauge(fraction, text = "") {
  const pct = Math.max(0, Math.min(100, fraction * 100));
  const gauge = $("gauge");
  $("gauge-fill").style.width = `${pct}%`;
  gauge.setAttribute("aria-valuenow", pct.toFixed(1));
  gauge.classList.toggle("warn", fraction > 0.8 && fraction <= 1);
  gauge.classList.toggle("over", fraction > 1);
  $("gauge-text").textContent = text;
}

function renderCount(data, model) {
  const total = data.totalTokens ?? data.totalBillableCharacters ?? 0;
  $("total-tokens").textContent = fmtInt(total);
  $("total-tokens").dataset.value = String(total);
  const rows = [];
  for (const d of data.promptTokensDetails || []) rows.push([d.modality, d.tokenCount]);
  for (const d of data.cacheTokensDetails || []) rows.push([`${d.modality} (cached)`, d.tokenCount]);
  if (data.cachedContentTokenCount) rows.push(["cached content", data.cachedContentTokenCount]);
  if (data.totalBillableCharacters !== undefined) rows.push(["billable characters", data.totalBillableCharacters]);
  $("modalities").replaceChildren(...rows.map(([name, n]) => el("tr", { dataset: { modality: name, counted: String(n || 0) } },
    el("td", {}, name), el("td", { class: "num", dataset: { testid: `modality-${name}` } }, fmtInt(n || 0)),
    el("td", { class: "num billed", dataset: { testid: `billed-modality-${name}` } }, "…"))));
  const limit = model.inputTokenLimit;
  setGauge(total / limit, `${fmtInt(total)} of ${fmtInt(limit)} input tokens (${((100 * total) / limit).toFixed(2)}% of the context window)`);
}

function usageOptions() {
  return $("as-of").value ? { asOf: $("as-of").value } : {};
}

// generateContent's promptTokenCount (the bill) beside countTokens' answer, when the two differ.
function renderBilled(res, counted, gen) {
  if (gen !== state.countGen) return;
  const box = $("billed-box"), out = $("billed-tokens"), note = $("billed-note");
  if (!res || !res.ok) {
    for (const row of $("modalities").children) row.lastChild.textContent = "";
    box.hidden = true;
    out.dataset.value = "";
    note.textContent = res ? `No bill for this request: ${res.data?.error?.message || errorText(res)}` : "";
    return;
  }
  const billed = res.data.usageMetadata?.promptTokenCount ?? 0;
  const byModality = new Map((res.data.usageMetadata?.promptTokensDetails || []).map((d) => [d.modality, d.tokenCount]));
  const tbody = $("modalities");
  for (const row of tbody.children) {
    const name = row.dataset.modality;
    row.lastChild.textContent = byModality.has(name) ? fmtInt(byModality.get(name)) : "";
    // Coloured only when the bill differs from countTokens for this modality; equal stays neutral.
    row.lastChild.classList.toggle("differs", byModality.has(name) && byModality.get(name) !== Number(row.dataset.counted));
    byModality.delete(name);
  }
  for (const [name, n] of byModality) {  // a modality only the bill has
    tbody.append(el("tr", { dataset: { modality: name } }, el("td", {}, name), el("td", { class: "num" }, ""),
      el("td", { class: "num billed differs", dataset: { testid: `billed-modality-${name}` } }, fmtInt(n))));
  }
  out.textContent = fmtInt(billed);
  out.dataset.value = String(billed);
  const total = counted.totalTokens ?? 0;
  box.hidden = billed === total;
  if (billed !== total) {  // what the model receives is the billed prompt: the gauge follows it
    const limit = selectedModel().inputTokenLimit;
    setGauge(billed / limit, `${fmtInt(billed)} of ${fmtInt(limit)} input tokens, billed count `
      + `(${((100 * billed) / limit).toFixed(2)}% of the context window)`);
  }
  note.textContent = billed === total ? "generateContent bills the same promptTokenCount."
    : `generateContent bills ${fmtInt(billed)} prompt tokens, countTokens says ${fmtInt(total)} `
      + `(${billed > total ? "+" : ""}${fmtInt(billed - total)}); the cost below prices the bill.`;
}

function renderPieces(res, gen) {
  if (gen !== state.countGen) return;
  const box = $("pieces");
  $("font-note").hidden = true;
  if (!res) { box.replaceChildren(el("p", { class: "hint" }, "No text to list.")); return; }
  if (!res.ok) { box.replaceChildren(el("p", { class: "hint" }, errorText(res))); return; }
  const frag = document.createDocumentFragment();
  let drawn = 0, total = 0, sawCjk = false;
  for (const info of res.data.tokensInfo || []) {
    if (info.role) frag.append(el("span", { class: "role" }, info.role));
    const decoder = new TextDecoder("utf-8");
    const tokens = info.tokens || [], ids = info.tokenIds || [];
    total += tokens.length;
    for (let i = 0; i < tokens.length && drawn < MAX_PIECES; i++, drawn++) {
      const bytes = Uint8Array.from(atob(tokens[i]), (c) => c.charCodeAt(0));
      // A piece may end inside a UTF-8 character; the streaming decoder shows it with the piece that completes it.
      const shown = decoder.decode(bytes, { stream: true });
      const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
      sawCjk = sawCjk || CJK.test(shown);
      frag.append(el("span", {
        class: `p${drawn % 4}`, title: `id ${ids[i]} · ${bytes.length} byte${bytes.length === 1 ? "" : "s"}: ${hex}`,
        dataset: { id: String(ids[i]) },
      }, ...pieceText(shown)));
    }
  }
  if (total > drawn) frag.append(el("p", { class: "hint" }, `… and ${fmtInt(total - drawn)} more pieces`));
  $("font-note").hidden = !(sawCjk && noCjkFont());
  box.replaceChildren(frag);
  box.dataset.count = String(total);
}

// Han, kana, Hangul, CJK punctuation and full-width forms.
const CJK = /[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[\u{20000}-\u{3134f}]/u;
const CJK_RUN = new RegExp(`(${CJK.source})`, "gu");

// Whether this machine would draw CJK text as boxes: "日" drawn like a character no font has.
function noCjkFont() {
  if (state.noCjkFont === null) {
    const canvas = document.createElement("canvas");
    canvas.width = 40; canvas.height = 40;
    const ctx = canvas.getContext("2d");
    const draw = (text) => {
      ctx.clearRect(0, 0, 40, 40);
      ctx.font = `32px ${getComputedStyle($("pieces")).fontFamily}`;
      ctx.fillText(text, 2, 32);
      return Array.from(ctx.getImageData(0, 0, 40, 40).data).join();
    };
    state.noCjkFont = draw("\u65e5") === draw("\u{10fffd}");
  }
  return state.noCjkFont;
}

// A piece's text as nodes: where no font draws CJK, each CJK character is shown as its code point (CSS
// draws data-cp) instead of a box; the character itself stays in the text, for copying and reading.
function pieceText(shown) {
  if (!shown) return ["\u200b"];
  if (!noCjkFont() || !CJK.test(shown)) return [shown];
  return shown.split(CJK_RUN).filter((s) => s !== "").map((s) => (CJK.test(s) && [...s].length === 1
    ? el("span", { class: "codepoint", title: s, dataset: { cp: `U+${s.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}` } }, s)
    : s));
}

async function renderParts(body, dialect, modelName, gen) {
  const rows = [];
  if (!body.instances) {
    (body.contents || []).forEach((c, ci) => (c.parts || []).forEach((p, pi) => rows.push({ c, ci, p, pi })));
  }
  const shown = rows.slice(0, MAX_PARTS);
  const results = await Promise.all(shown.map((r) => call(paths.count(dialect, modelName),
    { contents: [{ role: "user", parts: [r.p] }] })));
  if (gen !== state.countGen) return;
  const tbody = $("parts");
  tbody.replaceChildren(...shown.map((r, i) => {
    const res = results[i];
    const value = res.ok ? fmtInt(res.data.totalTokens ?? 0) : (res.data?.error?.status || `HTTP ${res.status}`);
    return el("tr", { dataset: { testid: "part-row" } }, el("td", {}, `${r.ci + 1}.${r.pi + 1}`), el("td", {}, r.c.role || "user"),
      el("td", {}, describePart(r.p)), el("td", { class: "num" }, value));
  }));
  if (rows.length > shown.length) tbody.append(el("tr", {}, el("td", { colSpan: 4, class: "muted" }, `… ${rows.length - shown.length} more parts`)));
}

// ---- cost ---------------------------------------------------------------------------------------

function estimateOptions(mode) {
  const options = { mode, outputTokens: Number($("out-tokens").value) };
  const thinking = Number($("think-tokens").value);
  if (thinking > 0) options.thinkingTokens = thinking;
  if ($("as-of").value) options.date = $("as-of").value;
  return options;
}

async function runCosts() {
  const gen = ++state.costGen;
  const model = selectedModel();
  const built = requestBody();
  if (!model || !built || built.error) { renderModes({}); renderCompare([]); return; }
  const modelName = $("model").value;
  const dialect = $("dialect").value;
  const answers = await Promise.all(state.modes.map((mode) =>
    call(paths.estimate(dialect, modelName), { ...built.body, estimateOptions: estimateOptions(mode) })));
  if (gen !== state.costGen) return;
  const estimates = {};
  state.modes.forEach((mode, i) => { estimates[mode] = answers[i]; });
  state.estimates = estimates;
  renderModes(estimates);
  const chosen = state.compare.slice();
  const compared = await Promise.all(chosen.map(async (id) => ({
    id, res: await call(paths.estimate(dialect, id), { ...built.body, estimateOptions: estimateOptions(state.mode) }),
  })));
  if (gen !== state.costGen) return;
  renderCompare(compared);
}

function renderModes(estimates) {
  const tbody = $("modes");
  tbody.replaceChildren(...state.modes.map((mode) => {
    const res = estimates[mode];
    const button = el("button", { type: "button", class: "link", dataset: { mode } }, mode);
    button.setAttribute("aria-pressed", String(mode === state.mode));
    button.addEventListener("click", () => { state.mode = mode; renderModes(state.estimates); runCosts(); });
    const cell = !res ? el("td", { class: "num muted" }, "—")
      : res.ok ? el("td", { class: "num" }, money(res.data.total))
      : el("td", { class: "muted", title: errorText(res) }, res.data?.error?.message || errorText(res));
    cell.setAttribute("data-testid", `mode-${mode}`);
    if (res && res.ok) cell.dataset.total = res.data.total;
    return el("tr", { class: mode === state.mode ? "selected" : "" }, el("td", {}, button), cell);
  }));
  const chosen = estimates[state.mode];
  $("total-cost-label").textContent = `total (${state.mode})`;
  const totalOut = $("total-cost");
  const items = $("items");
  if (!chosen) { totalOut.textContent = "—"; totalOut.dataset.value = ""; items.replaceChildren(); $("cost-note").textContent = ""; return; }
  if (!chosen.ok) {
    totalOut.textContent = "—"; totalOut.dataset.value = "";
    items.replaceChildren();
    $("cost-note").textContent = errorText(chosen);
    return;
  }
  const e = chosen.data;
  totalOut.textContent = money(e.total);
  totalOut.dataset.value = e.total;
  items.replaceChildren(...(e.lineItems || []).map((li) => el("tr", { dataset: { testid: "line-item" } },
    el("td", { title: li.entryId || "" }, li.description),
    el("td", { class: "num" }, `${li.quantity} ${li.quantityUnit || ""}`),
    el("td", { class: "num" }, `$${li.unitPrice} ${li.priceUnit || ""}`),
    el("td", { class: "num" }, money(li.amount)))));
  const range = e.range ? ` Without an output size the total ranges ${money(e.range.min)} – ${money(e.range.max)}.` : "";
  $("cost-note").textContent = `${e.model}, ${e.api === "gemini" ? "Gemini API" : "Vertex AI"} prices in force on ${e.date}, ${e.mode} mode; `
    + `billed prompt ${fmtInt(e.prompt?.total_tokens ?? 0)} tokens.${range}`;
}

function renderCompare(compared) {
  const priced = compared.filter((c) => c.res.ok).sort((a, b) => cmpDecimal(a.res.data.total, b.res.data.total));
  const refused = compared.filter((c) => !c.res.ok);
  $("compare").replaceChildren(
    ...priced.map((c) => el("tr", { dataset: { testid: "compare-row", model: c.id, total: c.res.data.total } },
      el("td", {}, c.id), el("td", { class: "num" }, fmtInt(c.res.data.prompt?.total_tokens ?? 0)),
      el("td", { class: "num" }, money(c.res.data.total)))),
    ...refused.map((c) => el("tr", { dataset: { testid: "compare-refused", model: c.id } },
      el("td", {}, c.id), el("td", { colSpan: 2, class: "muted" }, c.res.data?.error?.message || errorText(c.res)))));
}

// ---- the comparison picker: chips of chosen models, a text box to add one -----------------------------

function comparable() { return state.models.filter((m) => !m.legacy); }

// The model a typed name means: an id or alias exactly, else the one comparable model whose id or alias
// contains the text. Returns [model, null] or [null, reason].
function compareTarget(text) {
  const wanted = text.trim().toLowerCase();
  if (!wanted) return [null, ""];
  const exact = state.byName.get(wanted);
  if (exact && !exact.legacy) return [exact, null];
  const hits = comparable().filter((m) => [m.id, ...m.aliases].some((n) => n.toLowerCase().includes(wanted)));
  if (hits.length === 1) return [hits[0], null];
  if (!hits.length) return [null, `No model matches “${text.trim()}”.`];
  return [null, `“${text.trim()}” matches ${hits.length} models (${hits.slice(0, 4).map((m) => m.id).join(", ")}`
    + `${hits.length > 4 ? ", …" : ""}); type more of the name.`];
}

function addCompare() {
  const input = $("compare-add");
  const [model, reason] = compareTarget(input.value);
  const hint = $("compare-hint");
  if (!model) { hint.textContent = reason; return; }
  if (state.compare.includes(model.id)) {
    hint.textContent = `${model.id} is already compared.`;
  } else {
    state.compare.push(model.id);
    hint.textContent = `Added ${model.id}.`;
    renderCompareChosen();
    refreshCosts();
  }
  input.value = "";
  input.focus();
}

function removeCompare(id) {
  const at = state.compare.indexOf(id);
  if (at < 0) return;
  state.compare.splice(at, 1);
  $("compare-hint").textContent = `Removed ${id}.`;
  renderCompareChosen();
  // Keep the keyboard where it was: on the next chip's remove button, else the previous one, else the box.
  const buttons = $("compare-chosen").querySelectorAll("button");
  (buttons[Math.min(at, buttons.length - 1)] || $("compare-add")).focus();
  refreshCosts();
}

function renderCompareChosen() {
  $("compare-chosen").replaceChildren(...state.compare.map((id) => {
    const remove = el("button", { type: "button", dataset: { testid: "compare-remove", model: id } }, "×");
    remove.setAttribute("aria-label", `Remove ${id} from the comparison`);
    remove.addEventListener("click", () => removeCompare(id));
    return el("li", { dataset: { testid: "compare-chip", model: id } }, id, remove);
  }));
}

// ---- files ----------------------------------------------------------------------------------------

function mimeOf(file) {
  if (file.type) return file.type;
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return MIME_BY_EXTENSION[ext] || "application/octet-stream";
}

function base64Of(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

async function addFiles(fileList) {
  for (const file of Array.from(fileList)) {
    const data = base64Of(await file.arrayBuffer());
    state.files.push({ name: file.name, mimeType: mimeOf(file), size: file.size, data });
  }
  renderFiles();
  refreshCounts();
}

function renderFiles() {
  $("file-list").replaceChildren(...state.files.map((f, i) => {
    const remove = el("button", { type: "button", "aria-label": `Remove ${f.name}` }, "×");
    remove.addEventListener("click", () => { state.files.splice(i, 1); renderFiles(); refreshCounts(); $("files").focus(); });
    return el("li", { dataset: { testid: "file-chip" } }, `${f.name} · ${f.mimeType} · ${fmtInt(f.size)} B`, remove);
  }));
}

// ---- batch ------------------------------------------------------------------------------------------

async function runBatch(file) {
  const status = $("batch-status");
  const fill = $("batch-fill");
  const bar = $("batch-progress");
  const setProgress = (done, total) => {
    const pct = total ? (100 * done) / total : 0;
    fill.style.width = `${pct}%`;
    bar.setAttribute("aria-valuenow", pct.toFixed(0));
  };
  $("batch-summary").replaceChildren();
  setProgress(0, 1);
  status.textContent = `Uploading ${file.name}…`;
  const params = new URLSearchParams({
    model: $("model").value, api: $("dialect").value, outputTokens: $("out-tokens").value, name: file.name,
  });
  if ($("as-of").value) params.set("date", $("as-of").value);
  const headers = { "Content-Type": "application/jsonl" };
  const key = $("api-key").value.trim();
  if (key) headers["x-goog-api-key"] = key;
  let response;
  try {
    response = await fetch(`/web/api/batch?${params}`, { method: "POST", headers, body: file });
  } catch (err) { status.textContent = String(err); return; }
  if (!response.ok || !response.body) {
    let res = { status: response.status, data: null };
    try { res.data = await response.json(); } catch (_) { /* not JSON */ }
    status.textContent = errorText(res);
    return;
  }
  // The answer is NDJSON: progress lines {"done", "total"}, then {"summary": …} or {"error": …}.
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line);
      if (msg.error) { status.textContent = errorText({ data: msg }); return; }
      if (msg.total !== undefined) {
        setProgress(msg.done, msg.total);
        status.textContent = `${fmtInt(msg.done)} of ${fmtInt(msg.total)} requests`;
      }
      if (msg.summary) renderBatchSummary(msg.summary);
    }
    if (done) break;
  }
}

function renderBatchSummary(summary) {
  $("batch-status").textContent = `Done: ${fmtInt(summary.counted)} of ${fmtInt(summary.lines)} lines counted.`;
  $("batch-fill").style.width = "100%";
  $("batch-progress").setAttribute("aria-valuenow", "100");
  const cost = summary.cost || {};
  const total = cost.total || {};
  const range = total.min === total.max ? money(total.min) : `${money(total.min)} – ${money(total.max)}`;
  const facts = [
    ["lines", "Lines", fmtInt(summary.lines)],
    ["counted", "Counted", fmtInt(summary.counted)],
    ["errors", "Refused", fmtInt(summary.errors?.lines ?? 0)],
    ["prompt-tokens", "Prompt tokens", fmtInt(summary.prompt_tokens ?? 0)],
    ["output-tokens", "Output tokens", summary.output?.tokens === undefined ? "—" : fmtInt(summary.output.tokens)],
    ["total", `Total (${cost.mode || "batch"}, prices of ${cost.date || "today"})`, range],
  ];
  for (const [reason, info] of Object.entries(summary.errors?.by_reason || {})) {
    facts.push([`error-${reason}`, `Refused: ${reason}`, `${fmtInt(info.lines)} (first lines ${info.first_lines.join(", ")})`]);
  }
  for (const m of cost.models || []) {
    const t = m.total || {};
    facts.push([`model-${m.model}`, `${m.model}: ${fmtInt(m.lines)} lines, ${fmtInt(m.prompt_tokens)} prompt tokens`,
      t.min === t.max ? money(t.min) : `${money(t.min)} – ${money(t.max)}`]);
  }
  $("batch-summary").replaceChildren(...facts.map(([id, label, value]) => el("tr", {},
    el("th", { scope: "row" }, label), el("td", { class: "num", dataset: { testid: `batch-${id}` } }, value))));
  if (total.min !== undefined) $("batch-summary").dataset.total = total.min === total.max ? total.min : "";
}

// ---- start -------------------------------------------------------------------------------------------

// One option per model; its aliases are folded into its label (all of them in the tooltip), not rows of their own.
function modelOption(m) {
  const aka = m.aliases.length ? `  (${m.aliases.slice(0, 2).join(", ")}${m.aliases.length > 2 ? ", …" : ""})` : "";
  const option = el("option", { value: m.id }, m.id + aka);
  if (m.aliases.length) option.title = `also: ${m.aliases.join(", ")}`;
  return option;
}

function populateModels(listing) {
  state.models = listing.models;
  state.modes = listing.modes;
  for (const m of listing.models) {
    state.byName.set(m.id, m);
    for (const a of m.aliases) state.byName.set(a, m);
  }
  const current = el("optgroup", { label: "Gemini" });
  const legacy = el("optgroup", { label: "Legacy (PaLM, Codey, embeddings): text only" });
  for (const m of listing.models) (m.legacy ? legacy : current).append(modelOption(m));
  $("model").replaceChildren(current, legacy);
  $("model").value = state.byName.has(DEFAULT_MODEL) ? DEFAULT_MODEL : listing.models[0].id;
  $("compare-options").replaceChildren(...comparable().map((m) => el("option", { value: m.id })));
  state.compare = DEFAULT_COMPARE.filter((id) => state.byName.has(id));
  renderCompareChosen();
  $("as-of").value = listing.today;
  $("key-row").hidden = !listing.authRequired;
  $("version").textContent = `vertexmeter ${listing.version}`;
  if (listing.batch) { state.batchAvailable = true; }
  else {
    $("batch-hint").textContent = "This server has no batch engine: the batch panel is off.";
    $("batch-file").disabled = true;
  }
  onModelChange();
}

function onModelChange() {
  const m = selectedModel();
  if (!m) return;
  const name = $("model").value;
  $("model-facts").textContent = `${name === m.id ? m.id : `${name} = ${m.id}`}: ${fmtInt(m.inputTokenLimit)} tokens in, `
    + `${fmtInt(m.outputTokenLimit)} out; ${m.modalities.join(", ")}; billed by ${m.billedBy}`
    + (m.aliases.length ? `; aliases: ${m.aliases.join(", ")}` : "");
  for (const id of ["out-tokens", "think-tokens"]) {
    const slider = $(id);
    slider.max = String(m.outputTokenLimit);
    if (Number(slider.value) > m.outputTokenLimit) slider.value = String(m.outputTokenLimit);
    $(`${id}-value`).textContent = fmtInt(slider.value);
  }
  refreshCounts();
}

async function start() {
  $("api-key").value = sessionStorage.getItem("vertexmeter-key") || "";
  $("model").addEventListener("change", onModelChange);
  $("dialect").addEventListener("change", refreshCounts);
  $("prompt").addEventListener("input", refreshCounts);
  for (const radio of document.querySelectorAll("input[name=kind]")) radio.addEventListener("change", refreshCounts);
  $("as-of").addEventListener("change", refreshCounts);
  $("compare-add").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); addCompare(); } });
  $("compare-add-button").addEventListener("click", addCompare);
  $("key-form").addEventListener("submit", (ev) => { ev.preventDefault(); $("api-key").dispatchEvent(new Event("change")); });
  $("api-key").addEventListener("change", () => { sessionStorage.setItem("vertexmeter-key", $("api-key").value.trim()); refreshCounts(); });
  for (const id of ["out-tokens", "think-tokens"]) {
    $(id).addEventListener("input", () => { $(`${id}-value`).textContent = fmtInt($(id).value); refreshCosts(); });
  }
  $("files").addEventListener("change", (ev) => { addFiles(ev.target.files); ev.target.value = ""; });
  $("batch-file").addEventListener("change", (ev) => { if (ev.target.files[0]) runBatch(ev.target.files[0]); ev.target.value = ""; });
  // The whole page takes dropped files (a drop outside the zone would otherwise open the file).
  const drop = $("drop");
  document.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  document.addEventListener("dragleave", (ev) => { if (!ev.relatedTarget) drop.classList.remove("over"); });
  document.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer && ev.dataTransfer.files.length) addFiles(ev.dataTransfer.files);
  });
  const listing = await call("/web/api/models");
  if (!listing.ok) { showError(errorText(listing)); return; }
  populateModels(listing.data);
}

document.addEventListener("DOMContentLoaded", start);
