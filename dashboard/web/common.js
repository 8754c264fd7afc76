// What every page shares: the token, fetching the API, safe DOM building, and function charts.
"use strict";

const params = new URLSearchParams(location.search);
const token = params.get("token") || sessionStorage.getItem("actsearch-token") || "";
if (token) sessionStorage.setItem("actsearch-token", token);

// GET a JSON endpoint; throws with the server's message on an error status.
async function api(path, query = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const response = await fetch(url, { headers: token ? { Authorization: "Bearer " + token } : {} });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// An element with text content only: names and expressions are data, never markup.
function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function link(text, href) {
  const a = el("a", text);
  a.href = href;
  return a;
}

// A page link that keeps the token.
function pageUrl(page, query = {}) {
  const url = new URL(page, location.origin);
  for (const [key, value] of Object.entries(query)) {
    for (const v of [].concat(value)) url.searchParams.append(key, v);
  }
  if (token) url.searchParams.set("token", token);
  return url.pathname + url.search;
}

function percent(value) {
  return value === null || value === undefined ? "" : (100 * value).toFixed(2) + "%";
}

function showError(error) {
  const box = el("div", "Error: " + error.message, { class: "error", id: "error" });
  document.querySelector("main").prepend(box);
}

// Marks the page as loaded (the browser test waits for it) and counts drawn charts.
function done() {
  document.body.dataset.loaded = "yes";
  const drawn = [...document.querySelectorAll("canvas")].filter(drawnPixels).length;
  document.body.dataset.chartsDrawn = String(drawn);
}

function drawnPixels(canvas) {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
  return false;
}

const palette = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7ea4"];

// The reference functions every plot shows beside a candidate.
const references = ["relu(x)", "x * sigmoid(x)"];

// Line chart of expressions over [from, to]: their values, or with derivative, their slopes.
async function plotFunctions(canvas, expressions, { derivative = false, from = -5, to = 5,
                                                    legend = true, small = false } = {}) {
  const curves = await Promise.all(expressions.map(e => api("/api/function", { expr: e, from, to,
                                                                              points: small ? 61 : 201 })));
  const datasets = curves.map((c, i) => ({
    label: c.expression + (derivative ? " (slope)" : ""),
    data: c.x.map((x, k) => ({ x, y: derivative ? c.dy[k] : c.y[k] })),
    borderColor: palette[i % palette.length],
    borderWidth: small ? 1.5 : 2,
    borderDash: references.includes(expressions[i]) && expressions.length > 1 ? [5, 4] : [],
    pointRadius: 0,
    spanGaps: false,
  }));
  return new Chart(canvas, {
    type: "line",
    data: { datasets },
    options: {
      animation: false, responsive: !small, maintainAspectRatio: !small, parsing: true,
      scales: { x: { type: "linear", display: !small, min: from, max: to },
                y: { display: !small, suggestedMin: -1, suggestedMax: derivative ? 1.5 : 3 } },
      plugins: { legend: { display: legend && !small }, tooltip: { enabled: !small } },
    },
  });
}

// The navigation bar every page starts with.
function navigation() {
  const header = document.querySelector("header");
  header.append(el("span", "actsearch", { class: "title" }),
                link("Searches", pageUrl("/")), link("Leaderboard", pageUrl("/leaderboard.html")),
                link("Compare", pageUrl("/compare.html")), link("Workers", pageUrl("/workers.html")));
}
