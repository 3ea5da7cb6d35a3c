/**
 * The dashboard page's script, served at GET /dashboard/app.js: plain JavaScript for any
 * current browser, no library, no build step. A string in a module so that tsc carries it into
 * dist/ (see dashboard.ts); it uses neither backticks nor template substitutions.
 *
 * It opens /dashboard/live, draws each JSON snapshot (docs/PROTOCOL.md, "Dashboard"), keeps
 * the last `historyMax` of them for the charts, and decodes the binary Events frames of the
 * trades stream (a 16-byte header, then 128-byte Event structs: native-layouts/events.fbs).
 */
export const dashboardScript = String.raw`'use strict';
(function () {
  var historyMax = 120;
  var spanMin = 30;
  var tradesMax = 20;
  var history = [];
  var trades = [];
  var snapshots = 0;
  var socket = null;
  var retryMs = 500;
  var params = new URLSearchParams(location.search);
  var instrument = Number(params.get('instrument') || '1');
  var tradesDirty = false;

  function $(id) { return document.getElementById(id); }
  function text(id, value) { $(id).textContent = value; }
  function number(n) { return n === null || n === undefined ? '-' : n.toLocaleString('en-US'); }
  function micros(us) {
    if (!us) return '-';
    return us >= 1000 ? (us / 1000).toFixed(1) + ' ms' : us.toLocaleString('en-US') + ' \u00b5s';
  }

  function connect() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var url = scheme + location.host + '/dashboard/live?instrument=' + instrument;
    text('address', location.host);
    socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    socket.onopen = function () {
      retryMs = 500;
      status('live', true);
    };
    socket.onclose = function () {
      status('disconnected, retrying', false);
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 8000);
    };
    socket.onmessage = function (message) {
      if (typeof message.data === 'string') onText(JSON.parse(message.data));
      else onTrades(new DataView(message.data));
    };
  }

  function status(what, live) {
    var el = $('status');
    el.textContent = what;
    el.className = live ? 'status live' : 'status';
  }

  function onText(message) {
    if (message.type === 'error') return text('book-note', message.error);
    if (message.type !== 'snapshot') return;
    snapshots++;
    document.body.setAttribute('data-snapshots', String(snapshots));
    text('updated', new Date(message.atMs).toLocaleTimeString());
    showNode(message.node, message.members);
    showRates(message);
    showBook(message);
  }

  function showNode(node, members) {
    text('role', node.role || '-');
    text('term', node.term === undefined ? '- (single node)' : String(node.term));
    text('member', node.member === undefined ? '-' : String(node.member));
    text('durable', number(node.durableSequence));
    var rows = members.map(function (m) {
      var id = m.id === null ? 'this node' : String(m.id) + (m.self ? ' (this)' : '');
      var heard = m.heardMsAgo === null ? '' : ' (heard ' + number(m.heardMsAgo) + ' ms ago)';
      return [id, m.role, m.self ? 'up' : m.state + heard,
        m.lagEvents === null ? '-' : number(m.lagEvents)];
    });
    fill('members', rows, null);
  }

  function showRates(s) {
    var l = s.latencyUs;
    history.push({ c: s.commandsPerSecond || 0, e: s.eventsPerSecond, p50: l.p50, p99: l.p99,
      p999: l.p999 });
    if (history.length > historyMax) history.shift();
    text('commands-rate', number(s.commandsPerSecond));
    text('events-rate', number(s.eventsPerSecond));
    text('latency-p50', micros(l.p50));
    text('latency-p90', micros(l.p90));
    text('latency-p99', micros(l.p99));
    text('latency-p999', micros(l.p999));
    text('latency-max', micros(l.max));
    chart('throughput-chart', [['c', 'var(--c1)'], ['e', 'var(--c2)']], number);
    chart('latency-chart', [['p50', 'var(--c1)'], ['p99', 'var(--c2)'], ['p999', 'var(--c3)']],
      micros);
  }

  function showBook(s) {
    if (s.instrument !== instrument) return; // an answer for the instrument shown before
    var book = s.book;
    var level = function (l) { return [number(l.price), number(l.quantity), number(l.orders)]; };
    fill('bids', book ? book.bids.map(level) : [], null);
    fill('asks', book ? book.asks.map(level) : [], null);
    text('book-note', book ? 'instrument ' + s.instrument + ', consistent at sequence ' +
      number(book.sequence) : (s.bookError || 'no book'));
  }

  /** Replaces a table's body with rows of cells (a class per row optional). */
  function fill(id, rows, classes) {
    var body = $(id).tBodies[0];
    var fresh = document.createElement('tbody');
    rows.forEach(function (cells, i) {
      var tr = document.createElement('tr');
      if (classes) tr.className = classes[i];
      cells.forEach(function (cell) {
        var td = document.createElement('td');
        td.textContent = cell;
        tr.appendChild(td);
      });
      fresh.appendChild(tr);
    });
    body.parentNode.replaceChild(fresh, body);
  }

  /** Lines of history[key] for each [key, colour]; the y axis from 0 to a round maximum. */
  function chart(id, series, format) {
    var svg = $(id);
    var w = svg.clientWidth || 600;
    var h = svg.clientHeight || 170;
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    var top = 0;
    history.forEach(function (p) {
      series.forEach(function (s) { top = Math.max(top, p[s[0]] || 0); });
    });
    top = roundUp(top);
    var ns = 'http://www.w3.org/2000/svg';
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    [0.25, 0.5, 0.75, 1].forEach(function (f) {
      var y = h - 4 - (h - 18) * f;
      var grid = document.createElementNS(ns, 'line');
      grid.setAttribute('x1', '0'); grid.setAttribute('x2', String(w));
      grid.setAttribute('y1', String(y)); grid.setAttribute('y2', String(y));
      grid.setAttribute('stroke', '#2a3440');
      svg.appendChild(grid);
      var label = document.createElementNS(ns, 'text');
      label.setAttribute('x', '4'); label.setAttribute('y', String(y - 3));
      label.textContent = format(Math.round(top * f));
      svg.appendChild(label);
    });
    // The time axis spans the history kept, at least spanMin snapshots (one a second).
    var span = Math.max(history.length, spanMin);
    var note = document.createElementNS(ns, 'text');
    note.setAttribute('x', String(w - 4)); note.setAttribute('y', '12');
    note.setAttribute('text-anchor', 'end');
    note.textContent = 'last ' + span + ' s';
    svg.appendChild(note);
    series.forEach(function (s) {
      var points = history.map(function (p, i) {
        var x = w - (history.length - 1 - i) * (w / (span - 1));
        var y = h - 4 - (h - 18) * ((p[s[0]] || 0) / top);
        return x.toFixed(1) + ',' + y.toFixed(1);
      });
      var line = document.createElementNS(ns, 'polyline');
      line.setAttribute('points', points.join(' '));
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke-width', '2');
      line.setAttribute('style', 'stroke: ' + s[1]);
      svg.appendChild(line);
    });
  }

  function roundUp(v) {
    if (v <= 0) return 1;
    var step = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * step >= v) return steps[i] * step;
    return 10 * step;
  }

  function u64(view, at) {
    return view.getUint32(at, true) + view.getUint32(at + 4, true) * 4294967296;
  }
  function i64(view, at) {
    return view.getUint32(at, true) + view.getInt32(at + 4, true) * 4294967296;
  }

  /** An Events frame of the trades stream: 0x82, count at byte 8, events from byte 16. */
  function onTrades(view) {
    if (view.byteLength < 16 || view.getUint8(0) !== 0x82) return;
    var count = view.getUint32(8, true);
    for (var i = 0; i < count && 16 + (i + 1) * 128 <= view.byteLength; i++) {
      var e = 16 + i * 128;
      if (view.getUint8(e + 28) !== 16) continue; // EventKind.Trade
      if (view.getUint32(e + 36, true) !== instrument) continue; // the one shown before
      trades.unshift({
        sequence: u64(view, e),
        timestampUs: u64(view, e + 8),
        sell: (view.getUint16(e + 32, true) & 4) !== 0, // EventFlag.Sell: the taker sold
        price: i64(view, e + 72),
        quantity: i64(view, e + 80),
      });
    }
    if (trades.length > tradesMax) trades.length = tradesMax;
    if (!tradesDirty) {
      tradesDirty = true;
      setTimeout(showTrades, 100); // at most ten redraws a second, however busy the book
    }
  }

  function showTrades() {
    tradesDirty = false;
    var rows = trades.map(function (t) {
      var time = new Date(t.timestampUs / 1000).toLocaleTimeString();
      return [time, t.sell ? 'sell' : 'buy', number(t.price), number(t.quantity),
        number(t.sequence)];
    });
    fill('trades', rows, trades.map(function (t) { return t.sell ? 'sell' : 'buy'; }));
    text('trade-count', trades.length === 0 ? '' : 'last ' + trades.length);
  }

  $('instrument').value = String(instrument);
  $('instrument-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var chosen = Number($('instrument').value);
    if (!Number.isSafeInteger(chosen) || chosen < 1) return text('book-note', 'not an id');
    instrument = chosen;
    trades = [];
    showTrades();
    params.set('instrument', String(chosen));
    window.history.replaceState(null, '', '?' + params.toString());
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ instrument: chosen }));
  });
  connect();
})();
`;
