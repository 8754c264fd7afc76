// The searches page: each search's state, and for each one its progress: best so far against
// trials and against time, the trial rate, and the distribution of rewards.
"use strict";

async function showSearches() {
  navigation();
  const searches = await api("/api/searches");
  const body = document.querySelector("#searches tbody");
  for (const s of searches) {
    const t = s.trials;
    const rate = s.active_seconds > 0 ? (3600 * t.trained / s.active_seconds).toFixed(0) : "";
    const row = el("tr");
    const rule = el("td");
    if (s.early_stopping) rule.append(el("code", s.early_stopping.rule));
    const name = el("td");
    name.append(link(s.name, pageUrl("/leaderboard.html", { search: s.id })));
    row.append(el("td", s.id), name, el("td", s.kind),
               el("td", s.status, { class: "state-" + s.status }),
               el("td", t.trained, { class: "num" }), el("td", t.leased, { class: "num" }),
               el("td", t.queued, { class: "num" }), el("td", t.screened, { class: "num" }),
               el("td", s.repeats === null ? "" : s.repeats, { class: "num", title: "proposals of a class already known" }),
               el("td", t.diverged, { class: "num" }), el("td", t.failed, { class: "num" }),
               el("td", percent(s.best_validation), { class: "num" }),
               el("td", rate, { class: "num" }),
               rule);
    body.append(row);
  }
  const progress = document.getElementById("progress");
  for (const s of searches.filter(s => s.trials.trained > 0)) {
    progress.append(el("h2", "Progress of " + s.name));
    const charts = el("div", null, { class: "charts" });
    progress.append(charts);
    const trials = (await api("/api/trials", { search: s.id, limit: 100000 }))
                       .filter(t => t.validation_accuracy !== null && t.state !== "screened");
    trials.sort((a, b) => (a.finished_at || 0) - (b.finished_at || 0));
    let best = 0;
    const bestByTrial = trials.map((t, i) => ({ x: i + 1, y: (best = Math.max(best, t.validation_accuracy)) }));
    best = 0;
    const bestByTime = trials.map(t => ({ x: ((t.finished_at || s.started_at) - s.started_at) / 60,
                                          y: (best = Math.max(best, t.validation_accuracy)) }));
    lineChart(charts, "best so far, by trials", bestByTrial, "trials");
    lineChart(charts, "best so far, by minutes", bestByTime, "minutes since start");
    histogram(charts, "rewards (validation accuracy)", trials.map(t => t.validation_accuracy));
    const updates = await api("/api/policy", { search: s.id });
    if (updates.length) policyChart(charts, updates);
  }
  done();
}

function card(parent, title) {
  const c = el("div", null, { class: "card" });
  c.append(el("div", title));
  const canvas = el("canvas");
  c.append(canvas);
  parent.append(c);
  return canvas;
}

function lineChart(parent, title, points, xLabel) {
  new Chart(card(parent, title), {
    type: "line",
    data: { datasets: [{ label: title, data: points, borderColor: palette[0], pointRadius: 0,
                         stepped: true }] },
    options: { animation: false, plugins: { legend: { display: false } },
               scales: { x: { type: "linear", title: { display: true, text: xLabel } },
                         y: { title: { display: true, text: "validation accuracy" } } } },
  });
}

// PPO's learning: the policy's entropy (how spread its proposals still are), the reward
// baseline, and each batch's mean reward, per update.
function policyChart(parent, updates) {
  const series = (key, color, axis) => ({ label: key.replace("_", " "), borderColor: color,
                                          data: updates.map(u => ({ x: u.update, y: u[key] })),
                                          yAxisID: axis, pointRadius: 2 });
  new Chart(card(parent, "policy updates (PPO)"), {
    type: "line",
    data: { datasets: [series("mean_reward", palette[0], "reward"), series("baseline", palette[2], "reward"),
                       series("entropy", palette[1], "entropy")] },
    options: { animation: false,
               scales: { x: { type: "linear", title: { display: true, text: "update" } },
                         reward: { position: "left", title: { display: true, text: "reward" } },
                         entropy: { position: "right", title: { display: true, text: "entropy" },
                                    grid: { drawOnChartArea: false } } } },
  });
}

function histogram(parent, title, values) {
  const bins = 20, counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(v * bins))]++;
  new Chart(card(parent, title), {
    type: "bar",
    data: { labels: counts.map((_, i) => (i / bins).toFixed(2)),
            datasets: [{ label: "trials", data: counts, backgroundColor: palette[0] }] },
    options: { animation: false, plugins: { legend: { display: false } } },
  });
}

showSearches().catch(error => { showError(error); done(); });
