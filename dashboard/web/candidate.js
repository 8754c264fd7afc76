// One candidate: its function and derivative next to ReLU and Swish, its initial betas, and
// every trial of it with its learning curve, worker and timings.
"use strict";

async function showCandidate() {
  navigation();
  const expression = params.get("expr");
  if (!expression) throw new Error("no candidate named: open this page from the leaderboard");
  const f = await api("/api/function", { expr: expression });
  document.getElementById("expression").textContent = f.expression;
  document.getElementById("betas").textContent =
      f.betas.length ? "initial betas: " + f.betas.join(", ") : "no betas";
  const shown = [f.expression, ...references.filter(r => r !== f.expression)];
  await plotFunctions(document.getElementById("shape"), shown);
  await plotFunctions(document.getElementById("slope"), shown, { derivative: true });

  const trials = (await api("/api/trials", { search: params.get("search"), limit: 100000 }))
                     .filter(t => t.expression === f.expression);
  const searches = Object.fromEntries((await api("/api/searches")).map(s => [s.id, s]));
  // Under averaged-weights judging a curve's points before the end are the average's accuracy.
  const averaged = t => {
    const s = searches[t.search_id];
    return Boolean(s && s.early_stopping && s.early_stopping.averaged_weights);
  };
  const body = document.querySelector("#trials tbody");
  const curves = [];
  for (const t of trials.slice(0, 50)) {
    const whole = await api("/api/trials/" + t.id);
    const row = el("tr");
    // A child stopped by its search's early stopping says so: its accuracy is a rung's.
    row.append(el("td", t.id), el("td", t.search_id), el("td", t.pruned ? "pruned" : t.state),
               el("td", percent(t.validation_accuracy), { class: "num" }),
               el("td", percent(t.test_accuracy), { class: "num" }), el("td", t.steps, { class: "num" }),
               el("td", t.worker), el("td", t.wall_seconds.toFixed(1), { class: "num" }),
               el("td", whole.error));
    body.append(row);
    const points = (whole.learning_curve || []).filter(p => p[2] !== null).map(p => ({ x: p[0], y: p[2] }));
    const label = "trial " + t.id + (averaged(t) ? " (averaged weights until its end)" : "");
    if (points.length) curves.push({ label: label, data: points, pointRadius: 2,
                                     borderColor: palette[curves.length % palette.length] });
  }
  await showReevaluation(f.expression, searches);
  new Chart(document.getElementById("curves"), {
    type: "line",
    data: { datasets: curves },
    options: { animation: false, scales: { x: { type: "linear", title: { display: true, text: "step" } } } },
  });
  done();
}

// The function's re-evaluation runs (`actsearch reevaluate`), by search, mode and model: plain,
// SUGAR (sugar:expr=E) and PWLU (pwlu:init=E), with their seeds. A run's model is the search's
// (named in its name) unless the run names its own (a served re-evaluation on several models).
async function showReevaluation(expression, searches) {
  const modes = { [expression]: "plain", ["sugar:expr=" + expression]: "sugar",
                  ["pwlu:init=" + expression]: "pwlu" };
  const runs = (await api("/api/trials", { contains: expression, limit: 100000 }))
                   .filter(t => searches[t.search_id] && searches[t.search_id].kind === "reevaluation" &&
                                modes[t.expression]);
  const groups = new Map();
  for (const t of runs) {
    const key = t.search_id + " " + modes[t.expression] + " " + t.model;
    if (!groups.has(key)) {
      groups.set(key, { search: searches[t.search_id].name, mode: modes[t.expression], model: t.model,
                        runs: [] });
    }
    groups.get(key).runs.push(t);
  }
  if (!groups.size) return;
  document.getElementById("no-reevaluation").hidden = true;
  const table = document.getElementById("reevaluation");
  table.hidden = false;
  const mean = values => values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  for (const g of groups.values()) {
    // Diverged runs are counted, not averaged as 0 (as `reevaluate` reports them).
    const done = g.runs.filter(t => t.state === "done" && t.validation_accuracy !== null);
    const seeds = g.runs.map(t => "seed " + t.seed + ": " +
                                  (t.state === "done" ? percent(t.validation_accuracy) : t.state));
    const row = el("tr");
    row.append(el("td", g.search), el("td", g.mode), el("td", g.model || "the search's"),
               el("td", g.runs.length, { class: "num" }),
               el("td", percent(mean(done.map(t => t.validation_accuracy))), { class: "num" }),
               el("td", percent(mean(done.filter(t => t.test_accuracy !== null).map(t => t.test_accuracy))),
                  { class: "num" }),
               el("td", seeds.join(", ")));
    table.querySelector("tbody").append(row);
  }
}

showCandidate().catch(error => { showError(error); done(); });
