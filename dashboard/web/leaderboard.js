// The leaderboard page: classes ranked by mean validation accuracy, filterable and sortable,
// each with a small plot of its function, and the same rows as CSV or JSON.
"use strict";

let rows = [];

async function showLeaderboard() {
  navigation();
  const form = document.getElementById("filters");
  for (const [key, value] of params) if (form.elements[key]) form.elements[key].value = value;
  const select = document.getElementById("search");
  select.append(el("option", "all searches", { value: "" }));
  for (const s of await api("/api/searches")) {
    select.append(el("option", s.id + ": " + s.name, { value: s.id }));
  }
  select.value = params.get("search") || "";
  form.addEventListener("submit", event => {
    event.preventDefault();
    const query = {};
    for (const [key, value] of new FormData(form)) if (value) query[key] = value;
    location.href = pageUrl("/leaderboard.html", query);
  });
  const query = {};
  for (const key of ["search", "operators", "state", "min_trials", "min_steps", "top"]) {
    query[key] = params.get(key);
  }
  rows = await api("/api/leaderboard", query);
  for (const [id, format] of [["csv", "csv"], ["json", "json"]]) {
    document.getElementById(id).href = pageUrl("/api/leaderboard", { ...clean(query), format });
  }
  document.querySelectorAll("th[data-key]").forEach(th =>
      th.addEventListener("click", () => sortBy(th.dataset.key)));
  await render();
  done();
}

function clean(query) {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v));
}

let ascending = false;
function sortBy(key) {
  ascending = !ascending;
  rows.sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0) * (ascending ? 1 : -1));
  render();
}

async function render() {
  const body = document.querySelector("#leaderboard tbody");
  body.replaceChildren();
  const plots = [];
  for (const r of rows) {
    const tr = el("tr");
    const shape = el("td");
    const canvas = el("canvas", null, { class: "spark", width: 120, height: 36 });
    shape.append(canvas);
    const expression = el("td");
    expression.append(link(r.expression, pageUrl("/candidate.html", { expr: r.expression,
                                                                     search: params.get("search") || "" })));
    tr.append(el("td", r.rank, { class: "num" }), shape, expression,
              el("td", r.trials, { class: "num" }), el("td", percent(r.validation_mean), { class: "num" }),
              el("td", percent(r.validation_std), { class: "num" }),
              el("td", percent(r.validation_best), { class: "num" }),
              el("td", percent(r.test_mean), { class: "num" }),
              el("td", r.steps, { class: "num", title: "the highest fidelity among its results" }),
              el("td", r.model || "–", { title: r.model ? "the model this re-evaluation run named"
                                                        : "the search's own child" }));
    body.append(tr);
    plots.push(plotFunctions(canvas, [r.expression], { small: true }));
  }
  await Promise.all(plots);
}

showLeaderboard().catch(error => { showError(error); done(); });
