// The workers: who is alive (seen within a minute), what each one trains, and how many
// children it finishes per hour.
"use strict";

async function showWorkers() {
  navigation();
  const workers = await api("/api/workers", { search: params.get("search") });
  const body = document.querySelector("#workers tbody");
  for (const w of workers) {
    const alive = w.seconds_since_seen < 60;
    const training = el("td");
    if (w.current_expression) {
      training.append(link(w.current_expression, pageUrl("/candidate.html", { expr: w.current_expression })));
    }
    const row = el("tr");
    row.append(el("td", w.name), el("td", w.device),
               el("td", alive ? "alive" : "gone", { class: alive ? "state-running" : "state-failed" }),
               el("td", w.seconds_since_seen.toFixed(0) + " s ago", { class: "num" }), training,
               el("td", w.finished, { class: "num" }), el("td", w.finished_last_hour, { class: "num" }),
               el("td", w.children_per_hour === null ? "" : w.children_per_hour.toFixed(1), { class: "num" }));
    body.append(row);
  }
  new Chart(document.getElementById("rates"), {
    type: "bar",
    data: { labels: workers.map(w => w.name),
            datasets: [{ label: "children per hour", data: workers.map(w => w.children_per_hour || 0),
                         backgroundColor: palette[0] }] },
    options: { animation: false, plugins: { legend: { display: false } } },
  });
  done();
}

showWorkers().catch(error => { showError(error); done(); });
