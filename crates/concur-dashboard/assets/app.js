// concur dashboard: live counts over server-sent events, and "select all".
//
// Text reaches the page through textContent only, never innerHTML, so a
// task name or worker id holding markup shows as text.
"use strict";
(function () {
  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }

  function grouped(value) {
    if (typeof value !== "number") return value === null || value === undefined ? "—" : String(value);
    return value.toLocaleString("en-US");
  }

  function utc(seconds) {
    if (typeof seconds !== "number" || seconds <= 0) return "";
    return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  // Same steps as the server's: seconds, minutes, hours, days.
  function age(ms) {
    if (typeof ms !== "number") return "—";
    var s = ms / 1000;
    if (s < 120) return s.toFixed(0) + " s";
    if (s < 7200) return (s / 60).toFixed(0) + " min";
    if (s < 172800) return (s / 3600).toFixed(0) + " h";
    return (s / 86400).toFixed(0) + " days";
  }

  function shown(el, value) {
    var format = el.getAttribute("data-format");
    if (format === "age") return age(value);
    if (format === "time") return utc(value);
    return grouped(value);
  }

  // Same rule as the server's: the age when the TTL is known, else the
  // time left.
  function heartbeat(left, age) {
    if (typeof left !== "number") return "missing";
    if (typeof age === "number") return "last beat " + (age / 1000).toFixed(1) + " s ago";
    return (left / 1000).toFixed(1) + " s left";
  }

  // Same rule as the server's: one path segment, or ?id= for . and ..
  function itemHref(base, id) {
    var encoded = encodeURIComponent(id);
    return id === "." || id === ".." ? base + "?id=" + encoded : base + "/" + encoded;
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function workerRows(body, workers) {
    var rows = [];
    workers.forEach(function (w) {
      var tr = document.createElement("tr");
      if (w.heartbeat_ms === null) tr.className = "missing";
      var link = document.createElement("a");
      link.href = itemHref("/workers", w.id);
      link.textContent = w.id;
      cell(tr, "").appendChild(link);
      cell(tr, w.queues.map(function (q) { return q.queue + " (" + grouped(q.processing) + ")"; }).join(", "));
      cell(tr, grouped(w.in_flight));
      cell(tr, grouped(w.concurrency));
      cell(tr, heartbeat(w.heartbeat_ms, w.heartbeat_age_ms));
      cell(tr, w.state === null || w.state === undefined ? "—" : w.state);
      rows.push(tr);
    });
    if (rows.length === 0) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      var td = cell(empty, "No worker is registered.");
      td.colSpan = 6;
      rows.push(empty);
    }
    body.replaceChildren.apply(body, rows);
  }

  function update(view) {
    var state = document.getElementById("live-state");
    if (view.error) {
      if (state) { state.textContent = "Redis: " + view.error; state.className = "live down"; }
      return;
    }
    if (state) { state.textContent = "live"; state.className = "live up"; }
    var queues = view.queues || [view];
    var byName = {};
    queues.forEach(function (q) { byName[q.name] = q; });
    // A shard's row is named by the shard; a queue shown by that name wins.
    queues.forEach(function (q) {
      (q.shards || []).forEach(function (s) { if (!byName[s.name]) byName[s.name] = s; });
    });
    document.querySelectorAll("[data-queue][data-field]").forEach(function (el) {
      var q = byName[el.getAttribute("data-queue")];
      var field = el.getAttribute("data-field");
      if (q && Object.prototype.hasOwnProperty.call(q, field)) el.textContent = shown(el, q[field]);
    });
    document.querySelectorAll("[data-queue][data-show-if]").forEach(function (el) {
      var q = byName[el.getAttribute("data-queue")];
      if (q) el.hidden = !q[el.getAttribute("data-show-if")];
    });
    document.querySelectorAll("[data-field]:not([data-queue])").forEach(function (el) {
      var field = el.getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(view, field)) el.textContent = shown(el, view[field]);
    });
    var body = document.querySelector('tbody[data-rows="workers"]');
    if (body && Array.isArray(view.workers)) workerRows(body, view.workers);
  }

  function follow() {
    var source = meta("concur-live");
    if (!source || !window.EventSource) return;
    var events = new EventSource(source);
    events.onmessage = function (message) {
      var view;
      try { view = JSON.parse(message.data); } catch (e) { return; }
      update(view);
    };
    events.onerror = function () {
      var state = document.getElementById("live-state");
      if (state) { state.textContent = "reconnecting…"; state.className = "live down"; }
    };
  }

  function selectAll() {
    document.querySelectorAll("input[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var name = box.getAttribute("data-select-all");
        box.form.querySelectorAll('input[type="checkbox"]').forEach(function (other) {
          if (other.getAttribute("name") === name) other.checked = box.checked;
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    follow();
    selectAll();
  });
})();
