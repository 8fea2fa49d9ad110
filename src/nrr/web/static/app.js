// nrr dashboard: draws the charts the server describes, and turns a click on a figure into the
// list of customers behind it. No framework; data only ever goes into the page as text.
"use strict";

const PLOT_CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
};

function drawCharts() {
  document.querySelectorAll(".chart[data-figure]").forEach((el) => {
    const block = document.getElementById(el.dataset.figure);
    if (!block) return;
    const figure = JSON.parse(block.textContent);
    Plotly.newPlot(el, figure.data, figure.layout, PLOT_CONFIG).then(() => {
      el.classList.add("drawn");
      el.on("plotly_click", (event) => {
        const point = event.points && event.points[0];
        if (point && point.customdata && point.customdata.metric) showDrill(point.customdata);
      });
    });
  });
}

function viewParams() {
  // The settings of the current view travel with every drill-down (same figures, same rules).
  const panel = document.getElementById("drill-panel");
  const keep = (panel && panel.dataset.keep ? panel.dataset.keep : "").split(",");
  const params = new URLSearchParams();
  new URLSearchParams(window.location.search).forEach((value, key) => {
    if (keep.includes(key) && value) params.set(key, value);
  });
  return params;
}

function formatMoney(minor, exponent) {
  if (minor === null || minor === undefined) return "–";
  const value = Number(minor) / Math.pow(10, exponent);
  return value.toLocaleString("en-US", {
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  });
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function link(text, href, attrs) {
  const a = document.createElement("a");
  a.textContent = text;
  a.href = href;
  Object.entries(attrs || {}).forEach(([k, v]) => a.setAttribute(k, v));
  return a;
}

function figureName(metric) {
  const names = {
    start: "Paying at the start of", end: "Paying at the end of", fx: "FX changes in",
    voluntary_churn: "Churn cancelled in",
    involuntary_churn: "Churn from failed payments in",
  };
  if (names[metric]) return names[metric];
  if (metric.startsWith("window")) return "Retention cohort ending";
  return metric.charAt(0).toUpperCase() + metric.slice(1) + " in";
}

async function showDrill(target) {
  const panel = document.getElementById("drill-panel");
  if (!panel) return;
  const params = viewParams();
  ["metric", "period", "by", "segment"].forEach((key) => {
    if (target[key]) params.set(key, target[key]);
  });
  panel.replaceChildren();
  panel.setAttribute("aria-busy", "true");
  const response = await fetch("/api/drill?" + params.toString(), { credentials: "same-origin" });
  const body = await response.json();
  panel.removeAttribute("aria-busy");
  const heading = document.createElement("h2");
  heading.tabIndex = -1;
  if (!response.ok) {
    heading.textContent = body.error || "Could not list the customers";
    panel.appendChild(heading);
    return;
  }
  const segment = target.segment ? ` · ${target.by} = ${target.segment}` : "";
  heading.textContent = `${figureName(target.metric)} ${target.period}${segment}: ` +
    `${body.length} customers`;
  const tools = document.createElement("p");
  tools.className = "tools";
  tools.append(
    link("Open as a page", "/drill?" + params.toString()),
    " · ",
    link("Download CSV", "/api/drill?" + params.toString() + "&format=csv", { download: "" }),
  );
  panel.append(heading, tools, drillTable(body));
  heading.focus();
}

const HEADINGS = {
  customer_id: "Customer", amount: "Amount", mrr: "MRR", mrr_before: "MRR before",
  mrr_after: "MRR after", mrr_start: "MRR at start", mrr_end: "MRR at end",
  churn_reason: "Churn reason", plan: "Plan", segment: "Segment", currency: "Billed in",
  mrr_native: "MRR (billed currency)",
};
const MONEY = ["amount", "mrr", "mrr_before", "mrr_after", "mrr_start", "mrr_end"];

function drillTable(rows) {
  const exponent = Number(document.getElementById("drill-panel").dataset.exponent || 2);
  const keys = rows.length ? Object.keys(rows[0]).filter((k) => k !== "drill") : ["customer_id"];
  const table = document.createElement("table");
  table.className = "drill-table";
  const head = table.createTHead().insertRow();
  keys.forEach((key) => {
    const th = document.createElement("th");
    th.textContent = HEADINGS[key] || key;
    th.scope = "col";
    if (MONEY.includes(key)) th.className = "num";
    head.appendChild(th);
  });
  const body = table.createTBody();
  const keep = viewParams().toString();
  rows.forEach((r) => {
    const tr = body.insertRow();
    keys.forEach((key) => {
      if (key === "customer_id") {
        const id = String(r.customer_id);
        const href = "/customers/" + encodeURIComponent(id) + (keep ? "?" + keep : "");
        cell(tr, "").appendChild(link(id, href));
      } else if (MONEY.includes(key)) {
        cell(tr, formatMoney(r[key], exponent), "num");
      } else {
        cell(tr, r[key] === null || r[key] === undefined ? "" : String(r[key]));
      }
    });
  });
  const wrap = document.createElement("div");
  wrap.className = "table";
  wrap.appendChild(table);
  return wrap;
}

function autoSubmit() {
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
}

function recompute() {
  const button = document.getElementById("recompute");
  if (!button) return;
  button.addEventListener("click", async () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    button.disabled = true;
    button.textContent = "Recomputing…";
    const response = await fetch("/api/recompute", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": meta ? meta.content : "" },
    });
    if (response.ok) window.location.reload();
    else button.textContent = "Recompute failed";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  autoSubmit();
  recompute();
  drawCharts();
});
