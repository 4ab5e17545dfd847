// The live status page: polls GET /status and renders it. No framework, no build step.
"use strict";

(() => {
  const REFRESH_MS = 1500;
  const RATE_WINDOW_MS = 10000; // requests/s over the last ~10 s of polls
  const RATE_MIN_MS = 1000; // a shorter span would be noise
  const STATUS_URL = new URL("../status", window.location.href);
  let history = []; // recent statuses, oldest first
  let refreshes = 0;

  const byId = (id) => document.getElementById(id);
  const setText = (id, text) => { byId(id).textContent = text; };
  const formatCount = (n) => n.toLocaleString("en-US");
  const formatMs = (ms) => (ms === null || ms === undefined ? "–" : `${ms.toFixed(1)} ms`);

  function cell(text, className, value) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    if (value !== undefined) td.dataset.value = String(value);
    return td;
  }

  function shareCell(share) {
    const td = cell(`${share.toFixed(1)}%`, "num share");
    td.style.setProperty("--share", `${share.toFixed(1)}%`);
    return td;
  }

  function ratePerSecond(row, status) {
    const base = history[0];
    const elapsed = base ? Date.parse(status.time) - Date.parse(base.time) : 0;
    if (elapsed < RATE_MIN_MS) return null;
    const before = base.traffic.find((r) => r.version === row.version && r.arm === row.arm);
    return (row.requests - (before ? before.requests : 0)) / (elapsed / 1000);
  }

  function remember(status) {
    const now = Date.parse(status.time);
    history = [...history, status].filter((s) => now - Date.parse(s.time) <= RATE_WINDOW_MS);
  }

  function isServing(row, status) {
    const arm = row.arm === "canary" ? status.canary : status.stable;
    return Boolean(arm && arm.version === row.version);
  }

  function trafficRow(row, status, total) {
    const tr = document.createElement("tr");
    tr.dataset.version = row.version;
    tr.dataset.arm = row.arm;
    if (!isServing(row, status)) tr.className = "retired";
    const rate = ratePerSecond(row, status);
    const share = total ? (100 * row.requests) / total : 0;
    tr.append(
      cell(row.version, "version"),
      cell(row.arm, `arm ${row.arm}`),
      cell(formatCount(row.requests), "num requests", row.requests),
      shareCell(share),
      cell(rate === null ? "–" : rate.toFixed(1), "num rate", rate ?? ""),
      cell(formatCount(row.errors), row.errors ? "num errors bad" : "num errors", row.errors),
      cell(formatMs(row.p50Ms), "num p50", row.p50Ms),
      cell(formatMs(row.p99Ms), "num p99", row.p99Ms),
    );
    return tr;
  }

  function renderTraffic(status) {
    const body = byId("traffic-rows");
    const total = status.traffic.reduce((sum, row) => sum + row.requests, 0);
    const rows = status.traffic.map((row) => trafficRow(row, status, total));
    if (!rows.length) rows.push(trafficRowEmpty());
    body.replaceChildren(...rows);
  }

  function trafficRowEmpty() {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = cell("no requests yet");
    td.colSpan = 8;
    tr.append(td);
    return tr;
  }

  function renderArms(status) {
    setText("stable-version", status.stable ? status.stable.version : "–");
    setText("stable-digest", status.stable ? `${status.stable.digest}…` : "");
    setText("canary-version", status.canary ? status.canary.version : "none");
    setText("canary-digest", status.canary ? `${status.canary.digest}…` : "");
    setText("weight", String(status.weight));
    byId("weight-bar").style.width = `${status.weight}%`;
  }

  function renderReloads(status) {
    const { applied = 0, ...others } = status.reloads;
    setText("reloads-applied", formatCount(applied));
    const parts = Object.entries(others).map(([outcome, n]) => `${outcome} ${n}`);
    setText("reloads-other", ["applied", ...parts].join(" · "));
    const error = status.lastError;
    byId("error-panel").hidden = !error;
    if (error) {
      setText("last-error", `${error.error} loading ${error.version} (generation ${error.generation}) at ${error.time}`);
    }
  }

  function renderHeader(status) {
    setText("model", status.model);
    setText("instance", status.instance);
    setText("generation", status.generation === null ? "–" : String(status.generation));
    setText("updated", new Date(status.time).toLocaleTimeString("en-GB"));
    setHealth(status.ready ? "ready" : "not ready", status.ready ? "ok" : "warn");
  }

  function setHealth(text, kind) {
    const pill = byId("health");
    pill.textContent = text;
    pill.className = `pill ${kind}`;
  }

  function render(status) {
    renderHeader(status);
    renderArms(status);
    renderTraffic(status);
    renderReloads(status);
    remember(status);
    refreshes += 1;
    document.body.dataset.refreshes = String(refreshes);
  }

  async function refresh() {
    try {
      const response = await fetch(STATUS_URL, { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      render(await response.json());
    } catch (error) {
      setHealth(`offline (${error.message})`, "bad");
    } finally {
      window.setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
