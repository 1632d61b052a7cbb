// The search page: plain DOM, no build step. Talks to the same JSON API as any other client.
"use strict";

const $ = (id) => document.getElementById(id);
let example = null; // a File to search by (chosen or dropped)

function clock(seconds, up) {
  const s = up ? Math.ceil(seconds) : Math.floor(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(r)}` : `${two(m)}:${two(r)}`;
}

function describe(loc) {
  const parts = [];
  if (loc.start != null) parts.push("@ " + clock(loc.start) + (loc.end != null && loc.end > loc.start ? "–" + clock(loc.end, true) : ""));
  if (loc.page != null) parts.push("page " + loc.page);
  if (loc.char_start != null) parts.push(`chars ${loc.char_start}–${loc.char_end}`);
  return parts.join(" ");
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function params() {
  const p = new URLSearchParams();
  p.set("q", $("q").value);
  p.set("k", $("k").value);
  p.set("explain", "true");
  for (const box of document.querySelectorAll("#types input:checked")) p.append("type", box.value);
  if ($("path").value.trim()) p.set("path", $("path").value.trim());
  if ($("after").value) p.set("after", $("after").value);
  if ($("before").value) p.set("before", $("before").value);
  return p;
}

async function search() {
  const p = params();
  if (!p.get("q").trim() && !example) return;
  history.replaceState(null, "", "?" + new URLSearchParams({ q: p.get("q") }));
  $("summary").textContent = "Searching…";
  $("summary").classList.remove("error");
  let response;
  try {
    if (example) {
      const form = new FormData();
      for (const [key, value] of p) form.append(key, value);
      form.append("files", example, example.name);
      response = await fetch("/api/search", { method: "POST", body: form });
    } else {
      response = await fetch("/api/search?" + p);
    }
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    render(data);
  } catch (err) {
    $("summary").textContent = "Error: " + err.message;
    $("summary").classList.add("error");
    $("results").replaceChildren();
  }
}

function render(data) {
  const n = data.hits.length;
  $("summary").textContent = n ? `${n} result${n > 1 ? "s" : ""} in ${Math.round(data.took_ms)} ms` : "No matches.";
  $("results").replaceChildren(...data.hits.map(card));
}

function card(hit) {
  const best = hit.evidence[0];
  const loc = best ? best.locator : {};
  const open = el("button", { className: "open", type: "button", title: hit.abspath },
    el("img", { src: hit.thumb_url || "/static/icons/file.svg", alt: `${hit.modality}: ${hit.path}`, loading: "lazy" }),
    el("span", { className: "badge", textContent: hit.modality }),
    el("span", { className: "score", textContent: hit.score.toFixed(3) }));
  open.setAttribute("aria-label", `Open ${hit.path}, ${hit.modality}, score ${hit.score.toFixed(3)}`);
  open.addEventListener("click", () => view(hit));
  const where = best ? describe(loc) : "";
  const meta = el("div", { className: "meta" },
    el("span", { className: "path", textContent: hit.path }),
    where ? el("span", { className: "where", textContent: where }) : null,
    best && best.text && best.kind !== "name" ? el("span", { className: "snippet", textContent: best.text.trim() }) : null,
    hit.explain ? el("details", {}, el("summary", { textContent: "Why?" }), el("pre", { textContent: hit.explain })) : null);
  const li = el("li", { className: "card" }, open, meta);
  li.dataset.modality = hit.modality;
  if (loc.start != null) li.dataset.start = loc.start;
  return li;
}

async function view(hit) {
  const best = hit.evidence[0];
  const loc = best ? best.locator : {};
  const body = $("viewer-body");
  $("viewer-title").textContent = hit.path + (best && describe(loc) ? "  " + describe(loc) : "");
  $("viewer-explain").textContent = hit.explain || "";
  body.replaceChildren();
  if (hit.modality === "video" || hit.modality === "audio") {
    // Play from the evidence: #t= for the first request, currentTime once metadata is in.
    const start = loc.start || 0;
    const player = el(hit.modality, { controls: true, preload: "auto", src: `${hit.file_url}#t=${start}` });
    player.id = "player";
    player.addEventListener("loadedmetadata", () => {
      if (Math.abs(player.currentTime - start) > 0.25) player.currentTime = start;
      player.play().catch(() => {}); // autoplay may be refused; the controls still work
    }, { once: true });
    body.append(player);
  } else if (hit.modality === "image") {
    body.append(el("img", { src: hit.file_url, alt: hit.path }));
  } else {
    body.append(await passage(hit, best));
  }
  $("viewer").showModal();
  const mark = body.querySelector("mark");
  if (mark) mark.scrollIntoView({ block: "center" });
}

async function passage(hit, best) {
  const box = el("div", { className: "passage" });
  const loc = best ? best.locator : {};
  if (hit.modality === "text" && loc.char_start != null && hit.file_url) {
    try {
      const response = await fetch(hit.file_url);
      const text = await response.text();
      box.append(text.slice(Math.max(0, loc.char_start - 2000), loc.char_start),
        el("mark", { textContent: text.slice(loc.char_start, loc.char_end) }),
        text.slice(loc.char_end, loc.char_end + 2000));
      return box;
    } catch (err) { /* fall back to the segment's own text */ }
  }
  box.append(el("mark", { textContent: best && best.text ? best.text : "(no text)" }));
  return box;
}

function setExample(file) {
  example = file;
  $("example").hidden = !file;
  $("example-name").textContent = file ? "Searching by example: " + file.name : "";
  if (file) search();
}

async function loadModalities() {
  try {
    const status = await (await fetch("/api/status")).json();
    for (const name of status.modalities || []) {
      const box = el("input", { type: "checkbox", value: name, id: "type-" + name });
      box.addEventListener("change", search);
      $("types").append(el("label", { htmlFor: box.id }, box, " " + name));
    }
  } catch (err) { /* filters stay empty; search still works */ }
}

document.addEventListener("DOMContentLoaded", () => {
  $("search").addEventListener("submit", (event) => { event.preventDefault(); search(); });
  $("pick").addEventListener("change", () => setExample($("pick").files[0] || null));
  $("pick-label").addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); $("pick").click(); }
  });
  $("example-clear").addEventListener("click", () => { $("pick").value = ""; setExample(null); });
  for (const id of ["path", "after", "before", "k"]) $(id).addEventListener("change", search);
  $("viewer-close").addEventListener("click", () => $("viewer").close());
  $("viewer").addEventListener("close", () => {
    const player = document.getElementById("player");
    if (player) player.pause();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && document.activeElement.tagName !== "INPUT") { event.preventDefault(); $("q").focus(); $("q").select(); }
  });
  let depth = 0;
  document.addEventListener("dragenter", (event) => { event.preventDefault(); depth++; $("drop").hidden = false; });
  document.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; $("drop").hidden = true; } });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => {
    event.preventDefault(); depth = 0; $("drop").hidden = true;
    const file = event.dataTransfer.files[0];
    if (file) setExample(file);
  });
  loadModalities();
  const q = new URLSearchParams(location.search).get("q");
  if (q) { $("q").value = q; search(); }
});
