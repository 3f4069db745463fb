// Analyst dashboard: plain JavaScript, charts drawn as inline SVG. Every data request carries the
// key typed into the page as the X-API-Key header; nothing is fetched from outside the service.
"use strict";

const state = { key: sessionStorage.getItem("planner-key") || "", plan: null, impact: null, overview: null };
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

function status(text, error) {
  const el = $("status");
  el.textContent = text;
  el.className = error ? "error" : "";
}

async function api(path, options) {
  const opts = Object.assign({ headers: {} }, options || {});
  opts.headers["X-API-Key"] = state.key;
  if (opts.body && typeof opts.body !== "string") {
    opts.body = JSON.stringify(opts.body);
    opts.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, opts);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${response.status}: ${body.detail || body.title || path}`);
  return body;
}

// ------------------------------------------------------------------ tiny SVG helpers

function svg(width, height) {
  const el = document.createElementNS(SVG, "svg");
  el.setAttribute("viewBox", `0 0 ${width} ${height}`);
  el.setAttribute("preserveAspectRatio", "xMinYMin meet");
  return el;
}

function add(parent, name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  parent.appendChild(el);
  return el;
}

function polyline(parent, xs, ys, colour, cls) {
  const points = xs.map((x, i) => `${x.toFixed(1)},${ys[i].toFixed(1)}`).join(" ");
  return add(parent, "polyline", { points, fill: "none", stroke: colour, "stroke-width": 1.5, class: cls || "" });
}

function axes(parent, w, h, pad, maxY, label) {
  add(parent, "line", { x1: pad, y1: h - pad, x2: w - 5, y2: h - pad, stroke: "#999" });
  add(parent, "line", { x1: pad, y1: 5, x2: pad, y2: h - pad, stroke: "#999" });
  add(parent, "text", { x: 2, y: 14, "font-size": 10 }, `${fmt(maxY)} ${label || ""}`);
  add(parent, "text", { x: 2, y: h - pad, "font-size": 10 }, "0");
}

function legend(parent, x, y, items) {
  items.forEach(([text, colour], i) => {
    add(parent, "rect", { x: x, y: y + i * 14 - 8, width: 10, height: 8, fill: colour });
    add(parent, "text", { x: x + 14, y: y + i * 14, "font-size": 10 }, text);
  });
}

function fmt(x) {
  if (x === null || x === undefined) return "-";
  if (typeof x !== "number") return String(x);
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-GB");
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

function colourScale(v) {
  // 0 -> pale, 1 -> deep blue; null -> grey
  if (v === null) return "#eee";
  const t = Math.max(0, Math.min(1, v));
  const r = Math.round(240 - 200 * t), g = Math.round(244 - 150 * t), b = Math.round(250 - 60 * t);
  return `rgb(${r},${g},${b})`;
}

function table(headers, rows) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  headers.forEach((h) => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
  const body = t.createTBody();
  rows.forEach((r) => {
    const tr = body.insertRow();
    r.forEach((v) => {
      const td = tr.insertCell();
      if (v instanceof Node) td.appendChild(v); else td.textContent = fmt(v);
    });
  });
  return t;
}

function deltaCell(d) {
  const span = document.createElement("span");
  span.textContent = (d > 0 ? "+" : "") + fmt(d);
  span.className = d > 0 ? "pos" : d < 0 ? "neg" : "";
  return span;
}

// ------------------------------------------------------------------ the year at a glance

function drawYear(o) {
  const s = o.summary;
  const kpis = [
    ["Coverage", (100 * s.coverage_share).toFixed(1) + "%"], ["Demand (officer-tours)", s.demand_officers],
    ["Uncovered critical", s.uncovered_critical], ["Cancelled rest days", s.cancelled_rest_days],
    ["Rest-day cost (h)", s.rest_day_cost], ["Overtime (h)", s.overtime_cost],
    ["Max borough abstraction", (100 * s.max_borough_abstraction_share).toFixed(1) + "%"],
    ["Floor violations", s.floor_violations],
  ];
  $("kpis").replaceChildren(...kpis.map(([k, v]) => {
    const d = document.createElement("div"); d.className = "kpi"; d.innerHTML = `${k}<b></b>`;
    d.querySelector("b").textContent = fmt(v); return d;
  }));
  const d = o.daily, n = d.days.length, w = 900, h = 220, pad = 30;
  const maxY = Math.max(1, ...d.demand_officers);
  const chart = svg(w, h);
  axes(chart, w, h, pad, maxY, "officers");
  const bw = (w - pad - 10) / Math.max(1, n);
  const y = (v) => h - pad - (v / maxY) * (h - pad - 10);
  d.days.forEach((day, i) => {
    const x = pad + i * bw;
    const bar = add(chart, "rect", { x, y: y(d.demand_officers[i]), width: Math.max(1, bw - 0.5),
      height: h - pad - y(d.demand_officers[i]), fill: "#9db4d8", class: "demand-bar" });
    add(bar, "title", {}, `${day}: demand ${d.demand_officers[i]}, covered ${d.covered_officers[i]}, short ${d.short_officers[i]}`);
    if (d.short_officers[i] > 0) {
      add(chart, "rect", { x, y: y(d.short_officers[i]), width: Math.max(1, bw - 0.5),
        height: h - pad - y(d.short_officers[i]), fill: "#d92d20", class: "short-bar" });
    }
  });
  const xs = d.days.map((_, i) => pad + (i + 0.5) * bw);
  polyline(chart, xs, d.covered_officers.map(y), "#14213d", "covered-line");
  add(chart, "text", { x: pad, y: h - 8, "font-size": 10 }, d.days[0] || "");
  add(chart, "text", { x: w - 70, y: h - 8, "font-size": 10 }, d.days[n - 1] || "");
  legend(chart, w - 170, 14, [["demand", "#9db4d8"], ["covered", "#14213d"], ["short", "#d92d20"]]);
  $("year-chart").replaceChildren(chart);

  const list = $("short-events");
  list.replaceChildren(...o.short_events.slice(0, 30).map((e) => {
    const li = document.createElement("li");
    li.dataset.event = e.event_id;
    li.textContent = `${e.first_day} ${e.name} (${o.boroughs[e.borough] || e.borough}, ${e.priority}): ${e.short} short of ${e.demand_officers}`;
    li.addEventListener("click", () => drill(e.event_id));
    return li;
  }));
  if (!o.short_events.length) list.innerHTML = "<li class='muted'>No event is short.</li>";
}

// ------------------------------------------------------------------ heatmaps

function drawHeatmap(target, m) {
  const cell = 12, left = 150, top = 20;
  const w = left + m.weeks.length * cell + 10, h = top + m.boroughs.length * cell + 10;
  const chart = svg(w, h);
  // colours run from the lowest to the highest share in this map, so a map of low shares still reads
  const all = m.values.flat().filter((v) => v !== null);
  const lo = all.length ? Math.min(...all) : 0, hi = all.length ? Math.max(...all) : 1;
  const scaled = (v) => (v === null ? null : hi > lo ? (v - lo) / (hi - lo) : 0.5);
  add(chart, "text", { x: 2, y: 12, "font-size": 9 }, `${(100 * lo).toFixed(0)}% pale - ${(100 * hi).toFixed(0)}% dark`);
  m.names.forEach((name, r) => {
    add(chart, "text", { x: 2, y: top + r * cell + 9, "font-size": 9 }, name);
    m.values[r].forEach((v, c) => {
      const rect = add(chart, "rect", { x: left + c * cell, y: top + r * cell, width: cell - 1, height: cell - 1,
        fill: colourScale(scaled(v)), class: "heat-cell" });
      add(rect, "title", {}, `${name}, week of ${m.weeks[c]}: ${v === null ? "no data" : (100 * v).toFixed(1) + "%"}`);
    });
  });
  m.weeks.forEach((week, c) => {
    if (c % 4 === 0) add(chart, "text", { x: left + c * cell, y: top - 2, "font-size": 8 }, week.slice(5));
  });
  $(target).replaceChildren(chart);
}

// ------------------------------------------------------------------ delay projection

function drawDelay() {
  const imp = state.impact;
  if (!imp) return;
  const code = $("delay-area").value;
  const series = imp.boroughs.concat(imp.bcus).find((s) => s.code === code) || imp.boroughs[0];
  const w = 900, h = 200, pad = 30, n = imp.days.length;
  const maxY = Math.max(0.5, imp.settings.delay_threshold_days, ...series.delay_plan, ...series.delay_baseline);
  const chart = svg(w, h);
  axes(chart, w, h, pad, maxY, "days");
  const x = (i) => pad + (i / Math.max(1, n - 1)) * (w - pad - 10);
  const y = (v) => h - pad - (v / maxY) * (h - pad - 10);
  const ty = y(imp.settings.delay_threshold_days);
  add(chart, "line", { x1: pad, y1: ty, x2: w - 5, y2: ty, stroke: "#d92d20", "stroke-dasharray": "4 3" });
  polyline(chart, imp.days.map((_, i) => x(i)), series.delay_baseline.map(y), "#98a2b3", "delay-baseline");
  polyline(chart, imp.days.map((_, i) => x(i)), series.delay_plan.map(y), "#1849a9", "delay-plan");
  legend(chart, w - 200, 14, [["with the plan", "#1849a9"], ["no abstraction", "#98a2b3"], ["threshold", "#d92d20"]]);
  $("delay-chart").replaceChildren(chart);
  $("delay-note").textContent = ` intake ${fmt(series.intake_per_day)}/day, normal capacity ${fmt(series.normal_capacity)}/day; ` +
    `worst delay ${fmt(series.worst_delay_plan)} d (no abstraction ${fmt(series.worst_delay_baseline)} d)`;
}

function drawImpact(imp) {
  state.impact = imp;
  const select = $("delay-area");
  const current = select.value;
  select.replaceChildren(...imp.boroughs.concat(imp.bcus).map((s, i) => {
    const o = document.createElement("option");
    o.value = s.code; o.textContent = (i >= imp.boroughs.length ? "BCU " : "") + s.name;
    return o;
  }));
  const worst = imp.boroughs.slice().sort((a, b) => b.worst_delay_plan - a.worst_delay_plan)[0];
  select.value = current || (worst ? worst.code : "");
  drawDelay();
  const rows = imp.breaches.slice(0, 50).map((b) => [b.day, b.name, b.delay_plan, b.delay_baseline, b.investigators_abstracted]);
  $("breaches").replaceChildren(rows.length
    ? table(["Day", "Borough", "Delay (plan)", "Delay (none)", "Investigators abstracted"], rows)
    : Object.assign(document.createElement("p"), { className: "muted", textContent: `None past ${imp.settings.delay_threshold_days} days.` }));
}

// ------------------------------------------------------------------ frontier

function drawFrontier(points) {
  const w = 600, h = 240, pad = 36;
  const chart = svg(w, h);
  if (!points.length) { $("frontier-chart").replaceChildren(); return; }
  const maxDelay = Math.max(0.5, ...points.map((p) => p.worst_added_delay));
  const x = (f) => pad + ((f - 0.5) / 0.5) * (w - 2 * pad);
  const yCov = (c) => h - pad - c * (h - 2 * pad);
  const yDelay = (d) => h - pad - (d / maxDelay) * (h - 2 * pad);
  axes(chart, w, h, pad, 1, "coverage share");
  add(chart, "text", { x: w - pad, y: 14, "font-size": 10, "text-anchor": "end" }, `${fmt(maxDelay)} days delay`);
  polyline(chart, points.map((p) => x(p.investigation_floor)), points.map((p) => yCov(p.coverage_share)), "#1849a9", "frontier-coverage");
  polyline(chart, points.map((p) => x(p.investigation_floor)), points.map((p) => yDelay(p.worst_added_delay)), "#d92d20", "frontier-delay");
  points.forEach((p) => {
    const c = add(chart, "circle", { cx: x(p.investigation_floor), cy: yCov(p.coverage_share), r: 4, fill: "#1849a9", class: "frontier-point" });
    add(c, "title", {}, `floor ${(100 * p.investigation_floor).toFixed(0)}%: coverage ${(100 * p.coverage_share).toFixed(2)}%, worst added delay ${fmt(p.worst_added_delay)} d`);
    add(chart, "text", { x: x(p.investigation_floor) - 10, y: h - pad + 14, "font-size": 10 }, `${Math.round(100 * p.investigation_floor)}%`);
  });
  legend(chart, pad + 10, 20, [["coverage share", "#1849a9"], ["worst delay added by events", "#d92d20"]]);
  $("frontier-chart").replaceChildren(chart);
  $("frontier-table").replaceChildren(table(
    ["Floor", "Covered", "Uncovered critical", "Rest days", "Rest-day cost (h)", "Overtime (h)", "Worst delay", "Mean delay", "Worst added", "Mean added"],
    points.map((p) => [`${Math.round(100 * p.investigation_floor)}%`, (100 * p.coverage_share).toFixed(2) + "%",
      p.uncovered_critical, p.cancelled_rest_days, p.rest_day_cost, p.overtime_cost, p.worst_delay, p.mean_delay,
      p.worst_added_delay, p.mean_added_delay])));
}

async function loadFrontier() {
  const o = state.overview;
  const list = await api("/analysis/frontiers?limit=20");
  const match = list.items.find((f) => o && f.job.start === o.start && f.job.end === o.end) || list.items[0];
  if (!match) { $("frontier-status").textContent = " no frontier yet"; return; }
  $("frontier-status").textContent = ` ${match.job.status} (${fmt(match.job.percent)}%)`;
  drawFrontier(match.points);
  if (match.job.status === "queued" || match.job.status === "running") setTimeout(() => loadFrontier().catch(() => {}), 3000);
}

async function runFrontier() {
  const o = state.overview;
  if (!o) return;
  const out = await api("/analysis/frontiers", { method: "POST", body: { start: o.start, end: o.end } });
  $("frontier-status").textContent = ` queued ${out.job.id}`;
  setTimeout(() => loadFrontier().catch(() => {}), 2000);
}

// ------------------------------------------------------------------ comparison, rules

async function drawCompare() {
  const b = $("plan-b-select").value;
  if (!b || !state.plan) { $("compare-table").innerHTML = "<p class='muted'>Choose a second plan above.</p>"; return; }
  const c = await api(`/analysis/compare/${state.plan}/${b}`);
  const summary = table(["Figure", "A", "B", "B - A"], c.summary.map((d) => [d.name, d.a, d.b, deltaCell(d.delta)]));
  const pick = (area) => Object.fromEntries(area.figures.map((f) => [f.name, f.delta]));
  const boroughs = table(["Borough", "Abstracted", "Rest days", "Investigators retained", "Cost"],
    c.boroughs.map((a) => { const f = pick(a); return [a.name, deltaCell(f.abstracted), deltaCell(f.rest_day_called), deltaCell(f.investigators_retained), deltaCell(f.cost)]; }));
  const bcus = table(["BCU", "Abstracted", "Rest days", "Investigators retained", "Cost"],
    c.bcus.map((a) => { const f = pick(a); return [a.name, deltaCell(f.abstracted), deltaCell(f.rest_day_called), deltaCell(f.investigators_retained), deltaCell(f.cost)]; }));
  const wrap = document.createElement("div"); wrap.className = "pair";
  const right = document.createElement("div"); right.append(boroughs, bcus);
  wrap.append(summary, right);
  $("compare-table").replaceChildren(wrap);
}

function drawRules(rules) {
  $("rules-table").replaceChildren(table(["Rule", "Kind", "Measure", "Value", "Cost (h)", "Top events", "Top boroughs"],
    rules.map((r) => [r.rule, r.kind, r.measure, r.value, r.cost,
      r.top_events.map((e) => `${e.label} (${fmt(e.value)})`).join(", "),
      r.top_boroughs.map((e) => `${e.label} (${fmt(e.value)})`).join(", ")])));
}

// ------------------------------------------------------------------ drill-down

// The lawful cover measured per source for one short tour, nearest first (folded away by default).
function sourceTable(x) {
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  const rows = x.sources.map((s) => [s.name, s.minutes, s.suitable, sum(s.held_back), s.lawful_on_duty,
    s.lawful_rest_day, sum(s.held_by_floor), s.units_formable, s.rest_day_officers, s.rest_day_cost_hours]);
  const t = table(["Source", "Min", "Suitable", "Ruled out by rules", "Lawful on duty", "Lawful on rest day",
    "Kept by floors", "Units formable", "Rest-day officers", "Rest-day cost (h)"], rows);
  t.className = "sources";
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = `${x.role_label}, tour ${x.tour_index}: ${x.sources.length} sources measured`;
  details.append(summary, t);
  return details;
}

async function drill(eventId) {
  const d = await api(`/analysis/plans/${state.plan}/events/${encodeURIComponent(eventId)}`);
  const box = $("drill");
  box.replaceChildren();
  const h = document.createElement("h3");
  h.textContent = `${d.name} (${d.event_id}), ${d.priority}`;
  box.appendChild(h);
  box.appendChild(table(["Day", "Tour", "Demand", "Covered", "Short", "Rest days", "Cost (h)"],
    d.tours.map((t) => [t.day, t.tour_index, t.demand_officers, t.covered_officers, t.short, t.rest_day_officers, t.cost])));
  d.explanations.forEach((x) => {
    const p = document.createElement("p"); p.className = "explain"; p.textContent = x.text; box.appendChild(p);
    if (x.sources.length) box.appendChild(sourceTable(x));
  });
  const headers = ["Day", "Role", "Unit", "Source", "Start", "End", "Rest day"];
  if (!d.names_hidden) headers.push("Service no.", "Name");
  const rows = d.assignments.map((a) => {
    const row = [a.day, a.role, a.unit_id, a.source, a.start.slice(11, 16), a.end.slice(11, 16), a.rest_day_cancelled ? "yes" : ""];
    if (!d.names_hidden) row.push(a.service_number, a.name);
    return row;
  });
  const t = table(headers, rows);
  t.id = "drill-assignments";
  const note = document.createElement("p");
  note.className = "muted";
  note.textContent = `${d.assignments.length} officers deployed` + (d.names_hidden ? " (names withheld for analysts)" : "");
  box.append(note, t);
}

// ------------------------------------------------------------------ loading

async function loadPlans() {
  const page = await api("/plans?limit=100");
  const plans = page.items.filter((j) => j.status === "succeeded");
  const frontiers = new Set((await api("/analysis/frontiers?limit=100")).items.map((f) => f.job.id));
  const options = plans.filter((j) => !frontiers.has(j.id)).map((j) => {
    const o = document.createElement("option");
    o.value = j.id; o.textContent = `${j.start} to ${j.end} (${j.id.slice(0, 8)})`;
    return o;
  });
  $("plan-select").replaceChildren(...options.map((o) => o.cloneNode(true)));
  const none = document.createElement("option"); none.value = ""; none.textContent = "(none)";
  $("plan-b-select").replaceChildren(none, ...options);
  return options.length;
}

async function loadPlan() {
  state.plan = $("plan-select").value;
  if (!state.plan) { status("No finished plan yet."); return; }
  status("Loading plan...");
  const started = performance.now();
  const base = `/analysis/plans/${state.plan}`;
  const [overview, abstraction, retained, impact] = await Promise.all([
    api(`${base}/overview`), api(`${base}/heatmap?metric=abstraction`), api(`${base}/heatmap?metric=retained`), api(`${base}/impact`),
  ]);
  state.overview = overview;
  drawYear(overview);
  drawHeatmap("heat-abstraction", abstraction);
  drawHeatmap("heat-retained", retained);
  drawImpact(impact);
  const ms = Math.round(performance.now() - started);
  document.body.dataset.loadedMs = String(ms);
  document.body.dataset.plan = state.plan;
  status(`Plan ${state.plan.slice(0, 8)} loaded in ${ms} ms`);
  api(`${base}/rules`).then(drawRules).catch((e) => status(e.message, true));
  loadFrontier().catch((e) => { $("frontier-status").textContent = " " + e.message; });
  drawCompare().catch((e) => status(e.message, true));
  loadVersions().catch((e) => status(e.message, true));
}

// ------------------------------------------------------------------ versions of a published plan

async function loadVersions() {
  const target = $("versions-table");
  $("version-detail").replaceChildren();
  let listing;
  try {
    listing = await api(`/plans/${state.plan}/versions`);
  } catch (e) {
    target.replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: e.message }));
    return;
  }
  if (!listing.items.length) {
    target.replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: "Not published." }));
    return;
  }
  const rows = listing.items.map((v) => {
    const link = document.createElement("a");
    link.href = "#"; link.textContent = `v${v.number}`; link.dataset.version = String(v.number);
    link.addEventListener("click", (e) => { e.preventDefault(); showVersion(v.number).catch((err) => status(err.message, true)); });
    return [link, v.kind, v.created_at.slice(0, 16).replace("T", " "), v.reason || "-", v.inputs.join("; ") || "-",
      v.officers_changed, v.disruption_cost, v.officers_short];
  });
  const t = table(["Version", "Kind", "Made", "Reason", "Answers", "Officers told", "Disruption (h)", "Still short"], rows);
  t.className = "versions";
  target.replaceChildren(t);
}

async function showVersion(number) {
  const out = $("version-detail");
  out.replaceChildren(Object.assign(document.createElement("h3"), { textContent: `Version ${number}` }));
  let diff, notes;
  try {
    [diff, notes] = await Promise.all([
      api(`/plans/${state.plan}/versions/${number}/diff`), api(`/plans/${state.plan}/versions/${number}/notifications`),
    ]);
  } catch (e) {
    out.appendChild(Object.assign(document.createElement("p"), { className: "muted", textContent: `Named changes are for planners (${e.message}).` }));
    return;
  }
  const cover = table(["Event", "Tour", "Role", "Required", "Before", "After"],
    diff.coverage.map((c) => [c.event_id, c.tour_index, c.role, c.required, c.before, c.after]));
  cover.className = "version-coverage";
  out.appendChild(Object.assign(document.createElement("h4"), { textContent: "Coverage of the tours it changed" }));
  out.appendChild(cover);
  const list = table(["Service no.", "Name", "Unit", "Day", "Change", "Before", "After", "Clear days", "Cost class", "Cost"],
    notes.items.map((n) => [n.service_number, n.name, n.unit, n.day, n.change, n.before, n.after, n.clear_days, n.cost_class, n.cost]));
  list.className = "notifications";
  out.appendChild(Object.assign(document.createElement("h4"), { textContent: `Officers to tell (${notes.items.length})` }));
  const csv = document.createElement("a");
  csv.textContent = "CSV"; csv.href = "#";
  csv.addEventListener("click", async (e) => {
    e.preventDefault();
    const response = await fetch(`/plans/${state.plan}/versions/${number}/notifications.csv`, { headers: { "X-API-Key": state.key } });
    const url = URL.createObjectURL(await response.blob());
    Object.assign(document.createElement("a"), { href: url, download: `notifications-v${number}.csv` }).click();
  });
  out.appendChild(csv);
  out.appendChild(list);
}

async function connect(event) {
  if (event) event.preventDefault();
  state.key = $("key").value.trim() || state.key;
  sessionStorage.setItem("planner-key", state.key);
  try {
    if (await loadPlans()) await loadPlan(); else status("No finished plan yet.");
  } catch (e) {
    status(e.message, true);
  }
}

$("key-form").addEventListener("submit", connect);
$("plan-select").addEventListener("change", () => loadPlan().catch((e) => status(e.message, true)));
$("plan-b-select").addEventListener("change", () => drawCompare().catch((e) => status(e.message, true)));
$("delay-area").addEventListener("change", drawDelay);
$("frontier-run").addEventListener("click", () => runFrontier().catch((e) => status(e.message, true)));
$("event-form").addEventListener("submit", (e) => { e.preventDefault(); drill($("event-id").value.trim()).catch((err) => status(err.message, true)); });
if (state.key) { $("key").value = state.key; connect(); }
