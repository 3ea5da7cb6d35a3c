/**
 * The dashboard's page: HTML and CSS, served at GET /dashboard. A string in a module, so that
 * tsc carries it into dist/ (see dashboard.ts). Its script is dashboard-script.ts. No external
 * fonts, styles or scripts: the page works on a network that reaches only the node.
 */
export const dashboardHtml = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bourse dashboard</title>
<style>
  :root {
    --bg: #0f1419; --panel: #171e26; --line: #2a3440; --text: #d8dee6; --dim: #8a96a3;
    --bid: #3fb97f; --ask: #e5605b; --c1: #5aa9e6; --c2: #e8b04a; --c3: #c678dd;
  }
  * { box-sizing: border-box; }
  body {
    margin: 0; background: var(--bg); color: var(--text);
    font: 14px/1.4 system-ui, "DejaVu Sans", sans-serif;
  }
  header {
    display: flex; gap: 18px; align-items: baseline; padding: 12px 20px;
    border-bottom: 1px solid var(--line);
  }
  header h1 { margin: 0; font-size: 20px; letter-spacing: 0.04em; }
  header .dim { color: var(--dim); }
  .status { padding: 2px 8px; border-radius: 10px; background: #3a2a1a; color: var(--c2); }
  .status.live { background: #16321f; color: var(--bid); }
  main {
    display: grid; gap: 14px; padding: 14px 20px; grid-template-columns: 1fr 1fr 1fr;
    grid-template-areas: "node thr thr" "book lat lat" "book trades trades";
  }
  #node-panel { grid-area: node; } #throughput-panel { grid-area: thr; }
  #latency-panel { grid-area: lat; } #book-panel { grid-area: book; }
  #trades-panel { grid-area: trades; }
  @media (max-width: 1000px) {
    main { grid-template-columns: 1fr; grid-template-areas: none; }
    main > .panel { grid-area: auto; }
  }
  .panel {
    background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
    padding: 12px 14px; min-width: 0;
  }
  .panel h2 {
    margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: 0.08em;
    color: var(--dim); display: flex; justify-content: space-between; align-items: center;
  }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { padding: 3px 6px; text-align: right; border-bottom: 1px solid var(--line); }
  th { color: var(--dim); font-weight: normal; }
  th:first-child, td:first-child { text-align: left; }
  table.kv td { text-align: right; font-weight: 600; }
  .figures { display: flex; gap: 22px; flex-wrap: wrap; margin-bottom: 6px; }
  .figure { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .label { display: block; color: var(--dim); font-size: 12px; }
  .key { display: inline-block; width: 10px; height: 3px; margin-right: 5px;
    vertical-align: middle; }
  svg.chart { width: 100%; height: 170px; display: block; background: #121920;
    border: 1px solid var(--line); border-radius: 4px; }
  svg.chart text { fill: var(--dim); font-size: 11px; }
  .book { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; align-items: start; }
  #bids td:nth-child(1), .buy { color: var(--bid); }
  #asks td:nth-child(1), .sell { color: var(--ask); }
  form { display: inline-flex; gap: 6px; text-transform: none; letter-spacing: 0; }
  input, button {
    background: #0f1419; color: var(--text); border: 1px solid var(--line); border-radius: 4px;
    padding: 2px 6px; font: inherit;
  }
  input { width: 70px; }
  .note { color: var(--dim); font-size: 12px; margin: 6px 0 0; min-height: 1em; }
</style>
</head>
<body data-snapshots="0">
<header>
  <h1>bourse</h1>
  <span id="status" class="status">connecting</span>
  <span class="dim" id="address"></span>
  <span class="dim">updated <span id="updated">never</span></span>
</header>
<main>
  <section class="panel" id="node-panel">
    <h2>Node</h2>
    <table class="kv">
      <tr><th>role</th><td id="role">-</td></tr>
      <tr><th>term</th><td id="term">-</td></tr>
      <tr><th>member</th><td id="member">-</td></tr>
      <tr><th>durable sequence</th><td id="durable">-</td></tr>
    </table>
    <h2 style="margin-top: 14px">Members</h2>
    <table id="members">
      <thead><tr><th>member</th><th>role</th><th>state</th><th>lag (events)</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="panel" id="throughput-panel">
    <h2>Throughput <span>per second</span></h2>
    <div class="figures">
      <div><span class="label"><i class="key" style="background: var(--c1)"></i>commands/s</span>
        <span class="figure" id="commands-rate">-</span></div>
      <div><span class="label"><i class="key" style="background: var(--c2)"></i>events/s</span>
        <span class="figure" id="events-rate">-</span></div>
    </div>
    <svg class="chart" id="throughput-chart" viewBox="0 0 600 170" preserveAspectRatio="none">
    </svg>
  </section>
  <section class="panel" id="latency-panel">
    <h2>Result latency <span>sequenced to durable result, per second</span></h2>
    <div class="figures">
      <div><span class="label"><i class="key" style="background: var(--c1)"></i>p50</span>
        <span class="figure" id="latency-p50">-</span></div>
      <div><span class="label">p90</span><span class="figure" id="latency-p90">-</span></div>
      <div><span class="label"><i class="key" style="background: var(--c2)"></i>p99</span>
        <span class="figure" id="latency-p99">-</span></div>
      <div><span class="label"><i class="key" style="background: var(--c3)"></i>p99.9</span>
        <span class="figure" id="latency-p999">-</span></div>
      <div><span class="label">max</span><span class="figure" id="latency-max">-</span></div>
    </div>
    <svg class="chart" id="latency-chart" viewBox="0 0 600 170" preserveAspectRatio="none">
    </svg>
  </section>
  <section class="panel" id="book-panel">
    <h2>Book
      <form id="instrument-form">instrument
        <input id="instrument" type="number" min="1" value="1"><button>show</button>
      </form>
    </h2>
    <div class="book">
      <table id="bids">
        <thead><tr><th>bid</th><th>quantity</th><th>orders</th></tr></thead><tbody></tbody>
      </table>
      <table id="asks">
        <thead><tr><th>ask</th><th>quantity</th><th>orders</th></tr></thead><tbody></tbody>
      </table>
    </div>
    <p class="note" id="book-note"></p>
  </section>
  <section class="panel" id="trades-panel">
    <h2>Recent trades <span id="trade-count"></span></h2>
    <table id="trades">
      <thead><tr><th>time</th><th>taker</th><th>price</th><th>quantity</th><th>sequence</th></tr>
      </thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;
