// The status page: fetches /api/status every 2 s and draws each pipeline.
// Text from the runner is set with textContent only, never parsed as HTML.
"use strict";

const REFRESH_MS = 2000;
const count = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const rate = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function seconds(s) {
  if (s === undefined || s === null || !isFinite(s)) return "–";
  if (s === 0) return "0";
  if (s < 0.001) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
  if (s < 120) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function since(iso, now) {
  const d = (Date.parse(now) - Date.parse(iso)) / 1000;
  if (!isFinite(d)) return "";
  if (d < 90) return `${Math.max(0, Math.round(d))} s`;
  if (d < 5400) return `${Math.round(d / 60)} min`;
  if (d < 172800) return `${(d / 3600).toFixed(1)} h`;
  return `${Math.round(d / 86400)} d`;
}

function clock(iso) {
  const t = new Date(iso);
  return isNaN(t) ? iso : t.toLocaleTimeString([], { hour12: false });
}

function stateClass(p) {
  if (p.ready) return "ok";
  if (p.state === "stopped" || p.state === "broker unreachable" || p.state === "dead-letter topic unavailable" || p.state === "input unavailable") return "bad";
  return "warn";
}

function stat(field, label, value, sub, alert) {
  return el("div", { class: alert ? "stat alert" : "stat" },
    el("div", { class: "label", text: label }),
    el("div", { class: "value", "data-field": field, text: value }),
    sub ? el("div", { class: "sub", text: sub }) : null);
}

function topics(names) {
  return names.map((n, i) => [i ? ", " : "", el("code", { text: n })]);
}

function chain(p) {
  const items = [];
  items.push(el("li", { class: "node io" },
    el("div", { class: "name", text: "input" }),
    el("div", { class: "counts" },
      el("span", { "data-field": "chain-in", text: `${count.format(p.records.in)} in` }),
      p.stop ? [" + ", el("span", { "data-field": "unfinished", text: count.format(p.stop.unfinished) }), " unfinished"] : null),
    el("div", { class: "time" }, el("code", { text: p.input.topic }))));
  // Reading the value as JSON is the chain's first step: what is not JSON
  // fails here, so the first transform sees fewer records than came in.
  items.push(el("li", { class: "sep", "aria-hidden": "true", text: "→" }));
  items.push(el("li", { class: "node", "data-stage": "decode" },
    el("div", {}, el("span", { class: "name", text: "decode JSON" })),
    el("div", { class: "counts" },
      el("span", { "data-field": "decode-in", text: count.format(p.decode.in) }), " in → ",
      el("span", { "data-field": "decode-out", text: count.format(p.decode.out) }), " out"),
    p.decode.failed
      ? el("div", { class: "failed" }, el("span", { "data-field": "decode-failed", text: count.format(p.decode.failed) }), " not JSON → dead letters")
      : el("div", { class: "time", text: "every value was JSON" })));
  for (const s of p.steps) {
    items.push(el("li", { class: "sep", "aria-hidden": "true", text: "→" }));
    items.push(el("li", { class: "node", "data-step": String(s.index) },
      el("div", {}, el("span", { class: "idx", text: `#${s.index}` }), el("span", { class: "name", text: s.name })),
      el("div", { class: "counts" },
        el("span", { "data-field": "step-in", text: count.format(s.in) }), " in → ",
        el("span", { "data-field": "step-out", text: count.format(s.out) }), " out"),
      el("div", { class: "time", text: s.duration.count ? `p50 ${seconds(s.duration.p50_seconds)} · p99 ${seconds(s.duration.p99_seconds)}` : "no records yet" }),
      s.failed_attempts ? el("div", { class: "failed", "data-field": "step-failed", text: `${count.format(s.failed_attempts)} failed` }) : null));
  }
  items.push(el("li", { class: "sep", "aria-hidden": "true", text: "→" }));
  const outs = p.out_by_topic.length ? p.out_by_topic : p.outputs.map((t) => ({ topic: t, records: 0 }));
  items.push(el("li", { class: "node io" },
    el("div", { class: "name", text: "output" }),
    el("div", { class: "counts", "data-field": "chain-out", text: `${count.format(p.records.out)} out` }),
    outs.map((o) => el("div", { class: "time" }, el("code", { text: o.topic }), ` ${count.format(o.records)}`))));
  if (p.dead_letter_topic) {
    items.push(el("li", { class: "node io" },
      el("div", { class: "name", text: "dead letters" }),
      el("div", { class: "counts", text: `${count.format(p.records.dead_lettered)}` }),
      el("div", { class: "time" }, el("code", { text: p.dead_letter_topic }))));
  }
  return el("ol", { class: "chain" }, items);
}

function errors(p, now) {
  if (!p.errors.length) return el("p", { class: "none", text: "No errors." });
  return el("table", { class: "errors" },
    el("thead", {}, el("tr", {}, el("th", { text: "time" }), el("th", { text: "step" }), el("th", { text: "record" }), el("th", { text: "error" }))),
    el("tbody", {}, p.errors.map((e) => el("tr", {},
      el("td", { class: "when", title: e.time, text: `${clock(e.time)} (${since(e.time, now)} ago)` }),
      el("td", {}, el("code", { text: e.index >= 0 ? `#${e.index} ${e.step}` : e.step })),
      el("td", { class: "mono" },
        e.key ? [el("span", { "data-field": "error-key", text: `key ${e.key}` }), el("br")] : null,
        el("span", { "data-field": "error-record", text: e.offset !== undefined && e.offset !== "" ? `partition ${e.partition} offset ${e.offset}` : "–" })),
      el("td", { class: "msg", text: e.error })))));
}

// replays lists the replays and redrives of a pipeline running next to
// the runner (their checkpoints are in its working directory).
function replays(rs, now) {
  if (!rs.length) return null;
  return [el("h3", { text: "Running replays" }),
    el("ul", { class: "replays" }, rs.map((r) => el("li", { "data-field": "replay", "data-replay": r.id },
      el("code", { text: r.id }), ` ${r.mode === "dlq-redrive" ? "redrive of" : "replay of"} `, el("code", { text: r.topic }),
      `: ${count.format(r.done)} of ${count.format(r.total)} record(s)`,
      r.to_topic ? [" → ", el("code", { text: r.to_topic })] : null,
      ` · saved ${since(r.updated_at, now)} ago`)))];
}

function pipeline(p, now, rs) {
  const lag = p.lag ? count.format(p.lag.total) : "–";
  const lagSub = p.lag ? (p.lag.partitions.length ? `${p.lag.partitions.length} partition(s) · ${since(p.lag.updated_at, now)} ago` : "no partitions yet") : "not polled yet";
  const lat = p.latency.count ? seconds(p.latency.p99_seconds) : "–";
  const cls = stateClass(p);
  return el("section", { class: "pipeline", "data-pipeline": p.name },
    el("div", { class: "head" },
      el("h2", { text: p.name }),
      el("span", { class: `badge ${cls}`, "data-field": "state", text: p.state })),
    p.reason ? el("p", { class: cls === "bad" ? "reason bad" : "reason", "data-field": "reason", text: p.reason }) : null,
    p.stop ? el("p", { class: "next", "data-field": "next" },
      el("strong", { text: "What to do: " }), p.stop.next,
      p.stop.offset !== undefined ? ` (the record: partition ${p.stop.partition} offset ${p.stop.offset}, step ${p.stop.step}.)` : "") : null,
    el("p", { class: "route" },
      el("span", {}, "reads ", el("code", { "data-field": "input-topic", text: p.input.topic })),
      el("span", {}, "as group ", el("code", { "data-field": "group", text: p.input.group })),
      el("span", { class: "arrow", text: "→" }),
      el("span", {}, "writes ", topics(p.outputs)),
      p.dead_letter_topic ? el("span", {}, "· dead letters to ", el("code", { text: p.dead_letter_topic })) : null,
      p.group.state ? el("span", {}, `· group ${p.group.state}, ${p.group.members} member(s), ${p.group.assigned_partitions} partition(s) here`) : null),
    el("div", { class: "stats" },
      stat("rate-in", "in / s", rate.format(p.rates.in_per_second)),
      stat("rate-out", "out / s", rate.format(p.rates.out_per_second)),
      stat("lag", "consumer lag", lag, lagSub, p.lag && p.lag.total > 0),
      stat("records-in", "records in", count.format(p.records.in)),
      stat("records-out", "records out", count.format(p.records.out)),
      stat("filtered", "filtered", count.format(p.records.filtered)),
      stat("dead-lettered", "dead-lettered", count.format(p.records.dead_lettered), null, p.records.dead_lettered > 0),
      stat("failed", "failed attempts", count.format(p.records.failed_attempts)),
      stat("in-flight", "in flight", count.format(p.records.in_flight)),
      stat("latency", "end-to-end p99", lat, p.latency.count ? `p50 ${seconds(p.latency.p50_seconds)}` : "no outputs yet")),
    p.lag && p.lag.partitions.length
      ? el("div", { class: "partitions", text: "lag by partition: " + p.lag.partitions.map((x) => `p${x.partition} ${count.format(x.lag)}`).join(" · ") })
      : null,
    replays(rs.filter((r) => r.pipeline === p.name), now),
    el("h3", { text: "Transform chain" }),
    chain(p),
    el("h3", { text: "Recent errors" }),
    errors(p, now));
}

function render(st) {
  document.getElementById("runner").textContent =
    `version ${st.version} · ${st.go_version} · up ${since(st.started_at, st.now)} · ${st.pipelines.length} pipeline(s)`;
  const ready = document.getElementById("ready");
  ready.textContent = st.ready ? "ready" : "not ready";
  ready.className = `badge ${st.ready ? "ok" : "warn"}`;
  const health = document.getElementById("health");
  health.textContent = st.healthy ? "healthy" : "unhealthy";
  health.title = st.health || "";
  health.className = `badge ${st.healthy ? "ok" : "bad"}`;
  const main = document.getElementById("pipelines");
  main.replaceChildren(...st.pipelines.map((p) => pipeline(p, st.now, st.replays || [])));
  document.getElementById("updated").textContent = `updated ${clock(st.now)}`;
  document.body.dataset.updated = st.now;
}

async function refresh() {
  try {
    const res = await fetch("/api/status", { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    render(await res.json());
    document.getElementById("offline").hidden = true;
  } catch (err) {
    document.getElementById("offline").hidden = false;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
