// Filtering of the findings table: by rule, severity, account, status and free text.
// The filter state lives in the address's fragment (#severity=high&account=…), so a filtered
// view can be bookmarked or shared, and the summary cards are plain links that set it.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var table = document.getElementById("findings-table");
  if (!form || !table) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var fields = ["rule", "severity", "account", "status", "text"];
  var shown = document.getElementById("shown");
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });

  function control(name) { return form.elements[name]; }

  function apply() {
    var want = {};
    fields.forEach(function (f) { want[f] = control(f).value; });
    var needle = want.text.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (row, i) {
      var ok = (!want.rule || row.dataset.rule === want.rule) &&
        (!want.severity || row.dataset.severity === want.severity) &&
        (!want.account || row.dataset.account === want.account) &&
        (!want.status || row.dataset.status === want.status) &&
        (!needle || texts[i].indexOf(needle) !== -1);
      row.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = n + " of " + rows.length + " finding" + (rows.length === 1 ? "" : "s") + " shown";
    return want;
  }

  function toHash(want) {
    var parts = [];
    fields.forEach(function (f) {
      if (want[f]) { parts.push(f + "=" + encodeURIComponent(want[f])); }
    });
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (hash !== location.hash) { history.replaceState(null, "", hash || location.pathname + location.search); }
  }

  function fromHash() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) { params[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); }
    });
    if (!fields.some(function (f) { return f in params; })) { return false; }
    fields.forEach(function (f) { control(f).value = params[f] || ""; });
    return true;
  }

  form.addEventListener("input", function () { toHash(apply()); });
  form.addEventListener("change", function () { toHash(apply()); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(function () { toHash(apply()); }, 0); });
  window.addEventListener("hashchange", function () {
    if (fromHash()) { apply(); document.getElementById("findings").scrollIntoView(); }
  });
  fromHash();
  apply();
  document.documentElement.dataset.ready = "true";
})();
