// Several functions overlaid, shapes and derivatives, as the paper's Figure 3 shows its
// winners: the expressions come from the page's address (expr=..., repeated).
"use strict";

async function showComparison() {
  navigation();
  const expressions = params.getAll("expr").filter(e => e);
  const chosen = expressions.length ? expressions : references;
  const from = Number(params.get("from") || -5), to = Number(params.get("to") || 5);
  const form = document.getElementById("add");
  form.elements.from.value = from;
  form.elements.to.value = to;
  form.addEventListener("submit", event => {
    event.preventDefault();
    const added = form.elements.expr.value.trim();
    location.href = pageUrl("/compare.html", { expr: added ? [...chosen, added] : chosen,
                                              from: form.elements.from.value, to: form.elements.to.value });
  });
  await plotFunctions(document.getElementById("shapes"), chosen, { from, to });
  await plotFunctions(document.getElementById("slopes"), chosen, { from, to, derivative: true });
  done();
}

showComparison().catch(error => { showError(error); done(); });
