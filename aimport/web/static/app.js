// The aimport jobs view: hand-written, no dependencies. Every text from the server goes into the page as a
// text node (textContent), never as HTML: a file named <img src=x onerror=alert(1)>.xlsx shows as that text.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const STATUSES = ["queued", "in_process", "succeeded", "partial", "failed", "cancelled"];  // as jobsdata.STATUSES
const RETRYABLE = ["failed", "partial"];
const REVERTIBLE = ["succeeded", "partial"];  // applied something: what it changed is listed, and it can be reverted
let types = [];
let lastSummary = null;
let refreshNow = () => {};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("data-") || k.startsWith("aria-")) node.setAttribute(k, String(v));
    else if (k === "href" || k === "title") node.setAttribute(k, String(v));
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? "" : String(c)));
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

function fill(tbody, rows) {
  const table = tbody.parentElement;
  if (table.classList.contains("stack")) {  // on a phone each row is a block of "label: value" lines
    const labels = Array.from(table.tHead.rows[0].cells, (th) => th.textContent);
    for (const row of rows) Array.from(row.cells).forEach((td, i) => { if (labels[i]) td.dataset.label = labels[i]; });
  }
  tbody.replaceChildren(...rows);
  const empty = $(table.id + "-empty");
  if (empty) empty.hidden = rows.length > 0;
  table.hidden = rows.length === 0;
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

function short(iso) {
  // a time in a table: the time of day when it is today, else the date and the time (the full one on hover)
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const today = d.toDateString() === new Date().toDateString();
  const time = d.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"});
  return today ? time : d.toLocaleDateString([], {month: "short", day: "numeric"}) + " " + time;
}

function timeCell(iso) {
  return el("td", {class: "time", title: when(iso) || null}, short(iso));
}

function age(seconds) {
  if (seconds < 60) return Math.max(0, Math.round(seconds)) + " s";
  if (seconds < 3600) return Math.round(seconds / 60) + " min";
  if (seconds < 86400) return (seconds / 3600).toFixed(1) + " h";
  return (seconds / 86400).toFixed(1) + " d";
}

function duration(ms) {
  if (ms === null || ms === undefined) return "";
  return ms < 1000 ? ms + " ms" : age(ms / 1000);
}

function size(bytes) {
  if (bytes === null || bytes === undefined) return "";
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1048576) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1048576).toFixed(1) + " MB";
}

function count(n, one, many) {
  return `${Number(n).toLocaleString()} ${n === 1 ? one : many}`;
}

function badge(status) {
  return el("span", {class: "badge st-" + (STATUSES.includes(status) ? status : "other")},
    status.replace("_", " "));
}

class NeedToken extends Error {}

async function getJSON(url) {
  const r = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}, cache: "no-store"});
  if (r.status === 401) throw new NeedToken();
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) throw new Error((body && body.error) || ("HTTP " + r.status));
  return body;
}

function showError(err) {
  if (err instanceof NeedToken) {
    $("token-form").hidden = false;
    $("overview").hidden = true;
    $("detail").hidden = true;
    $("error").textContent = "";
    return;
  }
  $("error").textContent = err ? String(err.message || err) : "";
}

// --- actions: release, retry, cancel, revert (POST /api/actions/<name>, JSON; the answer's message is shown) ---

function actionButton(name, label, body, what) {
  return el("button", {type: "button", class: "action" + (name === "cancel" || name === "revert" ? " danger" : ""), "data-action": name,
                       "data-body": JSON.stringify(body), "data-what": what, title: `${label} ${what}`}, label);
}

function fileActions(q) {
  const body = {type: q.type, file: q.file};
  return el("td", {class: "actions"}, ...(q.held ? [actionButton("release", "Release", body, q.file)] : []),
    actionButton("cancel", "Cancel", body, q.file));
}

function notice(text, ok) {
  $("notice").textContent = text;
  $("notice").className = "notice " + (ok ? "ok" : "bad");
  $("notice").hidden = !text;
}

async function post(name, body) {
  const r = await fetch("/api/actions/" + name, {method: "POST", headers: {"Content-Type": "application/json"},
                                                 credentials: "same-origin", body: JSON.stringify(body)});
  let answer = null;
  try { answer = await r.json(); } catch (e) { answer = null; }
  if (r.ok) return {ok: true, message: (answer && answer.message) || "done", body: answer || {}};
  if (r.status === 401) throw new NeedToken();
  return {ok: false, status: r.status, message: (answer && answer.error) || ("HTTP " + r.status), body: answer || {}};
}

// the page's own confirmation (never window.confirm): a title, a text, the conflicts and notes when there are any
function confirmed({title, text, yes, conflicts, notes}) {
  return new Promise((resolve) => {
    const dialog = $("confirm");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-cancel").textContent = yes;
    $("confirm-conflicts").hidden = !(conflicts && conflicts.length);
    $("confirm-conflicts-list").tBodies[0].replaceChildren(...(conflicts || []).map((c) => el("tr", {},
      el("td", {}, c.item), el("td", {}, c.field),
      el("td", {}, c.later_import ? el("a", {href: "/imports/" + Number(c.later_import)}, "#" + c.later_import) : c.later))));
    $("confirm-notes").hidden = !(notes && notes.length);
    $("confirm-notes").replaceChildren(...(notes || []).map((n) => el("li", {}, n)));
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), {once: true});
    dialog.returnValue = "";
    dialog.showModal();
    $("confirm-keep").focus();
  });
}

function cancelConfirmed(what) {
  return confirmed({title: "Cancel this file?", yes: "Yes, cancel it",
                    text: `${what} goes to History/ with the status cancelled; nothing of it is imported.`});
}

function revertCounts(p) {
  const parts = [[p.restored, "item gets its old values back", "items get their old values back"],
                 [p.removed, "item it created is removed", "items it created are removed"],
                 [p.recreated, "item it deleted is put back", "items it deleted are put back"]];
  return parts.map(([n, one, many]) => count(n, one, many)).join(", ");
}

async function revert(button, what, body) {
  // the counts first (the revert run and rolled back), then the confirmation; conflicts: "Revert anyway"
  const id = Number(body.import_id);
  button.disabled = true;
  const preview = await getJSON(`/api/imports/${id}/revert-preview`);
  let force = false, shown = preview, conflicts = [];
  if (preview.refusal && preview.conflicts.length) {
    shown = await getJSON(`/api/imports/${id}/revert-preview?force=true`);
    force = true;
    conflicts = preview.conflicts;
  }
  if (shown.refusal) { notice(`#${id} is not reverted: ${shown.refusal}`, false); return; }
  for (;;) {
    const text = (conflicts.length
      ? `Later imports changed ${count(conflicts.length, "field", "fields")} of what ${what} changed (listed below): ` +
        "the revert was refused. Revert anyway puts this import's old values back over them. "
      : `Revert ${what}? `) + `In one transaction: ${revertCounts(shown)}. ` +
      "The revert is recorded as an import of its own, and can itself be reverted.";
    const yes = await confirmed({title: conflicts.length ? "Revert anyway?" : "Revert this import?", text,
                                 yes: conflicts.length ? "Revert anyway" : "Yes, revert it", conflicts, notes: shown.notes});
    if (!yes) return;
    button.disabled = true;
    const got = await post("revert", {import_id: id, force});
    if (!got.ok && got.status === 409 && !force && (got.body.conflicts || []).length) {
      conflicts = got.body.conflicts;  // changed since the preview: say so, offer to revert anyway
      shown = await getJSON(`/api/imports/${id}/revert-preview?force=true`);
      force = true;
      if (shown.refusal) { notice(`#${id} is not reverted: ${shown.refusal}`, false); return; }
      continue;
    }
    notice(got.message, got.ok);
    return;
  }
}

async function act(button) {
  const name = button.dataset.action, what = button.dataset.what, body = JSON.parse(button.dataset.body);
  if (name === "revert") {
    try { await revert(button, what, body); } catch (err) {
      if (err instanceof NeedToken) showError(err);
      else notice(`revert ${what}: ${String(err.message || err)}`, false);
    } finally { button.disabled = false; }
    refreshNow();
    return;
  }
  if (name === "cancel" && !(await cancelConfirmed(what))) return;
  button.disabled = true;
  try {
    const got = await post(name, body);
    notice(got.message, got.ok);
  } catch (err) {
    if (err instanceof NeedToken) showError(err);
    else notice(`${name} ${what}: ${String(err.message || err)}`, false);
  } finally {
    button.disabled = false;
  }
  refreshNow();
}

function setupActions() {
  document.addEventListener("click", (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest("button.action") : null;
    if (button && !button.disabled) act(button);
  });
}

// --- the overview ---------------------------------------------------------------------------------------------

function progressCell(r) {
  if (!r.phase) return el("td", {class: "progress"}, "starting");
  const of = r.rows_estimate ? ` of about ${r.rows_estimate.toLocaleString()}` : "";
  const text = `${r.phase}: ${r.rows.toLocaleString()}${of} ${r.rows === 1 && !of ? "row" : "rows"}`;
  const cell = el("td", {class: "progress"}, text);
  if (r.rows_estimate) {
    const storing = r.phase.startsWith("storing") ? 1 : 0;
    const done = (storing + Math.min(r.rows / r.rows_estimate, 1)) / 2;
    cell.append(el("progress", {max: 1, value: done, "aria-label": "work done, about"}));
  }
  return cell;
}

function finishCell(r, now) {
  if (!r.finish_estimate) return el("td", {class: "finish"}, r.phase ? "" : "-");
  const at = new Date(r.finish_estimate), left = (at.getTime() - now) / 1000;
  return el("td", {class: "finish", title: at.toLocaleString()},
    left <= 1 ? "any moment" : `about ${at.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"})} (in ${age(left)})`);
}

function renderSummary(s) {
  lastSummary = s;
  $("unit").textContent = s.unit;
  $("queued-note").textContent = s.enabled ? "" : "(automatic import is disabled: nothing is taken)";
  const f = s.figures;
  const waiting = s.queued.filter((q) => !q.held), held = s.queued.filter((q) => q.held);
  $("fig-queued").textContent = f.queued ?? waiting.length;  // held files are not waiting (as /metrics counts)
  $("fig-held").textContent = f.held ?? held.length;
  $("fig-running").textContent = s.in_process.length;
  $("fig-done").textContent = f.finished_today;
  $("fig-failed").textContent = f.failed_today;
  $("fig-partial").textContent = f.partial_today;
  const now = new Date(s.now).getTime();
  $("fig-oldest").textContent = f.oldest_waiting ? age((now - new Date(f.oldest_waiting.since).getTime()) / 1000) : "-";
  $("fig-oldest").title = f.oldest_waiting ? f.oldest_waiting.type + "/" + f.oldest_waiting.file : "";
  fill($("queued").tBodies[0], waiting.map((q) => el("tr", {"data-file": q.file, "data-type": q.type},
    el("td", {class: "file"}, q.file), el("td", {}, q.type), el("td", {class: "num"}, size(q.size)), timeCell(q.since),
    el("td", {}, "when its turn comes"), fileActions(q))));
  fill($("held").tBodies[0], held.map((q) => el("tr", {"data-file": q.file, "data-type": q.type},
    el("td", {class: "file"}, q.file), el("td", {}, q.type), el("td", {class: "num"}, size(q.size)),
    el("td", {class: "num"}, q.estimated_rows === null || q.estimated_rows === undefined ? "" : "about " + q.estimated_rows.toLocaleString()),
    timeCell(q.since), q.held_until ? timeCell(q.held_until) : el("td", {}, "when released"),
    el("td", {class: "why"}, q.held_reason || ""), fileActions(q))));
  fill($("running").tBodies[0], s.in_process.map((r) => el("tr", {"data-file": r.file, "data-id": r.id},
    el("td", {}, el("a", {href: "/imports/" + Number(r.id)}, String(r.id))), el("td", {class: "file"}, r.file), el("td", {}, r.type),
    timeCell(r.started_at), progressCell(r), finishCell(r, now))));
  renderUnits(s.units || []);
  drawChart(f.hours);
  if (!types.length && s.types) setFilters(s.types);
}

function renderUnits(units) {
  // a shared store's services (their heartbeats) and who holds or waits for which table's write turn
  $("units-card").hidden = units.length === 0;
  const turns = (u) => (u.turns || []).map((t) => t.table + (t.waiting_s !== null && t.waiting_s !== undefined
    ? " (waiting " + age(t.waiting_s) + ")" : " (held " + age(t.held_s || 0) + ")")).join(", ") || "-";
  fill($("units").tBodies[0], units.map((u) => el("tr", {"data-unit": u.unit},
    el("td", {}, u.unit), el("td", {}, u.host), el("td", {class: "num"}, String(u.pid)), el("td", {}, u.version),
    el("td", {}, age(u.seen_s_ago) + " ago"), el("td", {class: "num"}, String(u.in_flight)), el("td", {class: "why"}, turns(u)))));
}

function drawChart(hours) {
  // drawn at the width it is shown (text stays its size on a phone), redrawn when that changes
  const box = $("chart");
  const W = Math.max(280, Math.min(900, Math.floor(box.clientWidth || 720)));
  const narrow = W < 520, top = 8, H = narrow ? 120 : 150, left = 6, right = 6;
  const bw = (W - left - right) / Math.max(hours.length, 1), plot = H - top;
  const maxI = Math.max(1, ...hours.map((h) => h.imports)), maxR = Math.max(1, ...hours.map((h) => h.rows));
  const root = svg("svg", {viewBox: `0 0 ${W} ${H + 18}`, width: W, height: H + 18, role: "img",
                           "aria-label": "imports and rows per hour", class: "chart"});
  root.append(svg("line", {x1: left, y1: H, x2: W - right, y2: H, class: "axis"}));
  const points = [];
  hours.forEach((h, i) => {
    const x = left + i * bw, bh = (h.imports / maxI) * plot;
    const start = new Date(h.hour + ":00:00Z");
    const bar = svg("rect", {x: x + 1, y: H - bh, width: Math.max(bw - 2, 1), height: bh, class: h.failed ? "bar failed" : "bar"});
    const title = svg("title", {});
    title.textContent = `${start.toLocaleString()}: ${h.imports} import(s), ${h.rows} row(s), ${h.failed} failed`;
    bar.append(title);
    root.append(bar);
    points.push(`${x + bw / 2},${H - (h.rows / maxR) * plot}`);
    if (h.rows) root.append(svg("circle", {cx: x + bw / 2, cy: H - (h.rows / maxR) * plot, r: 2.5, class: "dot"}));
    if (i % 6 === 0) {
      const label = svg("text", {x: x + 1, y: H + 14, class: "tick"});
      label.textContent = start.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
      root.append(label);
    }
  });
  root.append(svg("polyline", {points: points.join(" "), class: "rows"}));
  box.replaceChildren(root);
  box.dataset.width = String(Math.floor(box.clientWidth));
  $("chart-legend").replaceChildren(
    el("span", {class: "key bar"}), `imports per hour (highest ${maxI.toLocaleString()})`, " ",
    el("span", {class: "key failed"}), "an hour with a failed import", " ",
    el("span", {class: "key rows"}), `rows per hour (highest ${maxR.toLocaleString()})`);
}

function setFilters(list) {
  types = list;
  const params = new URLSearchParams(location.search);
  for (const t of list) $("filter-type").append(el("option", {value: t}, t));
  for (const s of STATUSES) $("filter-status").append(el("option", {value: s}, s.replace("_", " ")));
  $("filter-type").value = list.includes(params.get("type")) ? params.get("type") : "";
  $("filter-status").value = STATUSES.includes(params.get("status")) ? params.get("status") : "";
}

async function loadRecent() {
  const q = new URLSearchParams();
  if ($("filter-type").value) q.set("type", $("filter-type").value);
  if ($("filter-status").value) q.set("status", $("filter-status").value);
  q.set("limit", "100");
  const data = await getJSON("/api/imports?" + q);
  fill($("recent").tBodies[0], data.imports.map((r) => el("tr", {"data-file": r.file_name, "data-id": r.id, "data-status": r.status},
    el("td", {}, el("a", {href: "/imports/" + Number(r.id)}, String(r.id))), el("td", {}, r.file_name),
    el("td", {}, r.import_type), el("td", {class: "status"}, badge(r.status), ...(r.reverted_by
      ? [" ", el("a", {class: "badge reverted", href: "/imports/" + Number(r.reverted_by), title: `reverted by #${r.reverted_by}`}, "reverted")]
      : [])),
    ...["rows", "created", "updated", "deleted", "unchanged", "rejected"].map((k) => el("td", {class: "num " + k}, r[k] ?? "")),
    el("td", {class: "num duration"}, duration(r.duration_ms)), el("td", {}, r.error_code || ""), timeCell(r.finished_at),
    el("td", {class: "actions"}, ...(RETRYABLE.includes(r.status)
      ? [actionButton("retry", "Retry", {import_id: Number(r.id)}, `#${r.id} ${r.file_name}`)] : [])))));
}

async function loadCampaigns() {
  try {
    const data = await getJSON("/api/campaigns");
    $("campaigns-error").textContent = "";
    fill($("campaigns").tBodies[0], data.campaigns.map((c) => el("tr", {"data-name": c.name},
      el("td", {}, c.name), el("td", {}, c.status), el("td", {class: "num"}, `${c.handled} / ${c.customers}`),
      el("td", {class: "num"}, c.calls), el("td", {}, c.exported || (c.invalid_reason ? "invalid: " + c.invalid_reason : "")))));
  } catch (err) {
    if (err instanceof NeedToken) throw err;
    $("campaigns-error").textContent = String(err.message || err);
  }
}

async function refreshOverview(withCampaigns) {
  const s = await getJSON("/api/summary");
  $("overview").hidden = false;  // shown first: the chart is drawn at the width it is shown
  renderSummary(s);
  await loadRecent();
  if (withCampaigns) await loadCampaigns();
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  $("error").textContent = "";
}

// --- one import -----------------------------------------------------------------------------------------------

// the page of .log lines and of rejected rows shown (the server answers one page of each, with the totals)
const LOG_PAGE = 500, REJECTED_PAGE = 200;
const CHANGES_PAGE = 100;
const at = {log: 0, rejected: 0, logTotal: 0, rejectedTotal: 0, changes: 0, changesTotal: 0, changesShown: ""};
const LEVEL = {REJECT: "reject", ERROR: "error", WARNING: "warning"};  // a WARNING is not coloured as an ERROR

function pager(name, offset, shown, total, page) {
  $(name + "-pager").hidden = total <= page && offset === 0;
  $(name + "-range").textContent = total ? `${(offset + 1).toLocaleString()}-${(offset + shown).toLocaleString()} of ${total.toLocaleString()}` : "";
  $(name + "-prev").disabled = offset === 0;
  $(name + "-next").disabled = offset + shown >= total;
}

function renderOutcome(r, reason) {
  $("outcome").className = "outcome st-" + r.status;
  $("outcome-status").replaceChildren(badge(r.status));
  const parts = [];
  if (r.rows !== null && r.rows !== undefined) {
    const counts = ["created", "updated", "deleted", "unchanged", "rejected"].filter((k) => r[k]).map((k) => `${r[k].toLocaleString()} ${k}`);
    parts.push(count(r.rows, "row", "rows") + (counts.length ? ": " + counts.join(", ") : ""));
  }
  if (r.finished_at) parts.push(`finished ${when(r.finished_at)}` + (r.duration_ms !== null && r.duration_ms !== undefined ? ` in ${duration(r.duration_ms)}` : ""));
  else if (r.started_at) parts.push(`started ${when(r.started_at)}`);
  $("outcome-counts").textContent = parts.join(" \u00b7 ");
  $("reason").hidden = !reason;
  if (reason) {
    $("reason-code").textContent = reason.code || "no error code";
    $("reason-meaning").textContent = reason.meaning ? reason.meaning.charAt(0).toUpperCase() + reason.meaning.slice(1) + "." : "";
    $("reason-message").textContent = reason.message || "";
    $("reason-message").hidden = !reason.message;
  }
  const what = `#${r.id} ${r.file_name}`;
  $("outcome-actions").replaceChildren(...(RETRYABLE.includes(r.status)
    ? [el("span", {}, actionButton("retry", "Retry", {import_id: Number(r.id)}, what),
          el("span", {class: "hint"}, " drops the archived original again under its own name"))] : []),
    ...(REVERTIBLE.includes(r.status) && !r.reverted_by
      ? [el("span", {}, actionButton("revert", "Revert", {import_id: Number(r.id), force: false}, what),
            el("span", {class: "hint"}, " puts back every item it touched (asks first, with the counts)"))] : []));
}

function renderReverts(r, events) {
  // "reverted by #N" on a reverted import; "reverts #M" on a revert (its revert_started event names it)
  const started = events.find((e) => e.kind === "revert_started" && e.detail && e.detail.reverts);
  const link = (id) => el("a", {href: "/imports/" + Number(id)}, "#" + Number(id));
  const parts = [];
  if (started) parts.push("This is the revert of ", link(started.detail.reverts), ". ");
  if (r.reverted_by) parts.push("Reverted by ", link(r.reverted_by), ": what it changed was put back.");
  $("outcome-reverts").replaceChildren(...parts);
  $("outcome-reverts").hidden = !parts.length;
}

function changeText(c) {
  if (c.action !== "updated") return c.action;
  const v = (x) => (x === "" || x === null || x === undefined ? "(empty)" : x);
  return `${c.field}: ${v(c.old)} -> ${v(c.new)}`;
}

async function loadChanges(r) {
  // what the import changed, a page at a time; read again only when the import or the page shown changes
  const listed = REVERTIBLE.includes(r.status) || !!r.reverted_by;
  $("changes-section").hidden = !listed;
  if (!listed) return;
  const key = [r.id, r.status, r.reverted_by, r.finished_at, at.changes].join("/");
  if (key === at.changesShown) return;
  let d;
  try {
    d = await getJSON(`/api/imports/${Number(r.id)}/changes?` + new URLSearchParams({offset: at.changes, limit: CHANGES_PAGE}));
  } catch (err) {
    if (err instanceof NeedToken) throw err;
    $("changes-error").textContent = String(err.message || err);
    return;
  }
  $("changes-error").textContent = "";
  at.changesShown = key;
  at.changesTotal = d.total;
  $("changes-count").textContent = d.total ? `(${d.total.toLocaleString()})` : "";
  $("changes-notes").textContent = d.notes.join("; ");
  $("changes-notes").hidden = !d.notes.length;
  pager("changes", at.changes, d.changes.length, d.total, CHANGES_PAGE);
  fill($("changes").tBodies[0], d.changes.map((c) => el("tr", {"data-action": c.action},
    el("td", {class: "item"}, el("span", {class: "kind"}, c.item_type), " ", el("b", {}, c.item)),
    el("td", {class: "change " + c.action}, changeText(c)))));
}

async function refreshDetail(id) {
  const q = new URLSearchParams({log_offset: at.log, log_limit: LOG_PAGE, rejected_offset: at.rejected, rejected_limit: REJECTED_PAGE});
  const d = await getJSON("/api/imports/" + id + "?" + q);
  const r = d.row;
  $("detail-title").replaceChildren(document.createTextNode(`#${r.id} ${r.file_name}`));
  document.title = `aimport #${r.id}`;
  renderOutcome(r, d.reason);
  renderReverts(r, d.events);
  const keys = ["import_type", "status", "error_code", "rows", "created", "updated", "deleted", "unchanged", "rejected",
                "size_bytes", "detected_at", "started_at", "finished_at", "duration_ms", "history_name", "sha256", "actor", "instance",
                ...(r.reverted_by ? ["reverted_by"] : [])];
  $("detail-row").tBodies[0].replaceChildren(...keys.map((k) => el("tr", {},
    el("th", {}, k), el("td", {}, k.endsWith("_at") ? when(r[k]) : k === "duration_ms" ? duration(r[k]) : (r[k] ?? "")))));
  $("rejected-download").hidden = !d.rejected_file;
  if (d.rejected_file) {
    $("rejected-file").textContent = d.rejected_file;
    $("rejected-file").setAttribute("href", `/api/imports/${Number(r.id)}/rejected`);
    $("rejected-folder").textContent = r.import_type + "/";
  }
  at.rejectedTotal = d.rejected_total ?? d.rejected.length;
  $("rejected-count").textContent = at.rejectedTotal ? `(${at.rejectedTotal.toLocaleString()})` : "";
  pager("rejected", at.rejected, d.rejected.length, at.rejectedTotal, REJECTED_PAGE);
  fill($("rejected").tBodies[0], d.rejected.map((x) => el("tr", {},
    el("td", {}, x.sheet), el("td", {class: "num"}, x.row || ""), el("td", {}, x.column), el("td", {}, x.reason))));
  const log = d.log;
  at.logTotal = log.total ?? log.lines.length;
  pager("log", at.log, log.lines.length, at.logTotal, LOG_PAGE);
  $("log").replaceChildren(...log.lines.map((line) => el("span", {class: LEVEL[/^\S+ \S+ (\w+)/.exec(line)?.[1]] || ""}, line + "\n")));
  $("log-note").textContent = log.problem ? `(${log.problem})`
    : (log.source === "work" ? "(the import is running: its work log)" : "") + (log.truncated ? ` (the first 16 MiB of ${size(log.size)})` : "");
  $("events").tBodies[0].replaceChildren(...d.events.map((e) => el("tr", {},
    el("td", {}, when(e.at)), el("td", {}, e.kind), el("td", {class: "mono"}, JSON.stringify(e.detail)))));
  await loadChanges(r);
  $("detail").hidden = false;
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  $("error").textContent = "";
}

// --- token, live updates, start -------------------------------------------------------------------------------

function setupToken() {
  $("token").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = $("token-input").value.trim();
    if (!value) return;
    document.cookie = "aimport_token=" + encodeURIComponent(value) + "; path=/; SameSite=Strict";
    location.reload();
  });
}

function setupPagers(again) {
  const go = (part, offset) => { at[part] = Math.max(0, offset); again(); };
  $("rejected-prev").addEventListener("click", () => go("rejected", at.rejected - REJECTED_PAGE));
  $("rejected-next").addEventListener("click", () => go("rejected", at.rejected + REJECTED_PAGE));
  $("changes-prev").addEventListener("click", () => go("changes", at.changes - CHANGES_PAGE));
  $("changes-next").addEventListener("click", () => go("changes", at.changes + CHANGES_PAGE));
  $("log-first").addEventListener("click", () => go("log", 0));
  $("log-prev").addEventListener("click", () => go("log", at.log - LOG_PAGE));
  $("log-next").addEventListener("click", () => go("log", at.log + LOG_PAGE));
  $("log-last").addEventListener("click", () => go("log", Math.floor(Math.max(at.logTotal - 1, 0) / LOG_PAGE) * LOG_PAGE));
}

function start() {
  setupToken();
  setupActions();
  const m = /^\/imports\/(\d+)$/.exec(location.pathname);
  const refresh = m ? () => refreshDetail(m[1]) : (campaigns) => refreshOverview(campaigns);
  let busy = false, again = false;
  const run = async (campaigns) => {
    if (busy) { again = true; return; }
    busy = true;
    try { await refresh(campaigns); } catch (err) { showError(err); }
    busy = false;
    if (again) { again = false; run(false); }
  };
  refreshNow = () => run(true);
  if (m) setupPagers(() => run(false));
  if (!m) {
    $("filters").addEventListener("change", () => {
      const q = new URLSearchParams();
      if ($("filter-type").value) q.set("type", $("filter-type").value);
      if ($("filter-status").value) q.set("status", $("filter-status").value);
      history.replaceState(null, "", q.toString() ? "/?" + q : "/");
      loadRecent().catch(showError);
    });
    let resized = null;
    window.addEventListener("resize", () => {
      clearTimeout(resized);
      resized = setTimeout(() => {
        if (lastSummary && String(Math.floor($("chart").clientWidth)) !== $("chart").dataset.width) drawChart(lastSummary.figures.hours);
      }, 100);
    });
  }
  run(true);
  let live = false;
  if (window.EventSource) {
    const es = new EventSource("/api/events");
    es.addEventListener("open", () => { live = true; $("live").textContent = "live"; $("live").className = "live on"; });
    es.addEventListener("change", () => run(false));
    es.addEventListener("error", () => { live = false; $("live").textContent = "reconnecting"; $("live").className = "live off"; });
  }
  setInterval(() => { if (!live) run(false); }, 5000);  // no live stream: poll
  setInterval(() => run(true), 15000);  // campaign counts and ages move without an audit event
}

document.addEventListener("DOMContentLoaded", start);
