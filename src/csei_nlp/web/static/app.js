// csei serve: keyboard shortcuts for the annotation screen. Loaded as a file (the CSP forbids inline scripts).
(function () {
  "use strict";
  // a form sent after the sign-in ended comes back filled in (web/drafts.py): the user checks it and sends it
  // again; nothing is submitted here. The kept values are user-typed text: only ever set as .value/.textContent.
  function restoreDraft() {
    var notice = document.getElementById("draft-notice");
    if (!notice) return;
    var fields;
    try { fields = JSON.parse(notice.dataset.fields || "{}"); } catch (err) { return; }
    var has = function (name) { return Object.prototype.hasOwnProperty.call(fields, name); };
    var path = function (url) { try { return decodeURIComponent(new URL(url, location.href).pathname); } catch (err) { return ""; } };
    // the form sent to the same path whose own context (hidden fields: working order, passage, expected
    // count, the row it acts on) is what the kept form had; several forms may share a path (one per row)
    var form = null;
    var sameContext = function (f) {
      return Array.prototype.every.call(f.querySelectorAll("input[type=hidden]"), function (h) {
        return h.name === "csrf_token" || !has(h.name) || fields[h.name][0] === h.value;
      });
    };
    document.querySelectorAll("form").forEach(function (f) {
      if (!form && f.method.toLowerCase() === "post" && path(f.action) === notice.dataset.action && sameContext(f)) form = f;
    });
    var same = !!form;
    if (!same) {
      var lines = [];
      Object.keys(fields).forEach(function (k) { lines.push(k + ": " + fields[k].join(", ")); });
      document.getElementById("draft-text").textContent = lines.join("\n");
      document.getElementById("draft-lost").hidden = false;
      return;
    }
    var seen = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !has(el.name) || ["hidden", "submit", "button", "file", "password"].indexOf(el.type) >= 0) return;
      var values = fields[el.name];
      if (el.type === "checkbox" || el.type === "radio") { el.checked = values.indexOf(el.value) >= 0; return; }
      if (el.type === "select-multiple") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
        return;
      }
      var i = seen[el.name] || 0;
      seen[el.name] = i + 1;
      if (i < values.length) el.value = values[i];
    });
    for (var p = form.parentElement; p; p = p.parentElement) { if (p.tagName === "DETAILS") p.open = true; }
    form.classList.add("restored");
    form.scrollIntoView({block: "nearest"});
  }

  document.addEventListener("DOMContentLoaded", function () {
    restoreDraft();
    // phones: the ranking's filters are folded; their heading opens and closes them
    var filters = document.getElementById("filters");
    if (filters) {
      var head = filters.querySelector("h2");
      if (head) head.addEventListener("click", function () { filters.classList.toggle("open"); });
    }
    var showAll = document.getElementById("show-all-highlights");
    if (showAll) {
      showAll.addEventListener("click", function () {
        var t = document.getElementById("doc-text");
        t.classList.toggle("all");
        showAll.textContent = t.classList.contains("all") ? "show the first three per cue" : "show all highlights";
      });
    }
    // the ranking: N opens the first candidate of the list, where the review loop starts
    var firstCandidate = document.querySelector("table.rank a.cand");
    if (firstCandidate) {
      document.addEventListener("keydown", function (e) {
        var t = e.target;
        if (e.ctrlKey || e.metaKey || e.altKey || (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA"))) return;
        if (e.key === "n") { e.preventDefault(); location.href = firstCandidate.href; }
      });
    }
    // analysts' review loop on a candidate page: decide and move on without the mouse
    var decision = document.getElementById("decision-form");
    if (decision) {
      document.addEventListener("keydown", function (e) {
        if (e.ctrlKey || e.metaKey || e.altKey) return;
        var t = e.target;
        if (t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type !== "radio"))) {
          if (e.key === "Escape") t.blur();
          return;
        }
        var k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
        var radio = decision.querySelector('input[data-key="' + k + '"]');
        if (radio) { e.preventDefault(); radio.checked = true; decision.submit(); return; }
        var link = {n: "next-candidate", p: "prev-candidate", e: "first-evidence", Escape: "back-to-ranking"}[k];
        var a = link && document.getElementById(link);
        if (a) { e.preventDefault(); location.href = a.href; }
      });
      return;
    }
    // annotation screen: the "Show model suggestions" box applies itself (its button is for no-JS browsers)
    var suggestions = document.getElementById("suggestions-form");
    if (suggestions) {
      var box = document.getElementById("show-suggestions");
      var apply = document.getElementById("suggestions-apply");
      if (apply) apply.hidden = true;
      if (box) box.addEventListener("change", function () { suggestions.submit(); });
    }
    var form = document.getElementById("annotate-form");
    var undo = document.getElementById("undo-form");
    var guide = document.getElementById("guidelines-link");
    var cancel = document.getElementById("cancel-edit");
    if (!form && !undo) {
      if (location.pathname === "/guidelines") {
        document.addEventListener("keydown", function (e) { if (e.key === "Escape") location.href = "/annotate"; });
      }
      return;
    }
    var byKey = {};
    if (form) {
      form.querySelectorAll("input[data-key]").forEach(function (box) { byKey[box.dataset.key] = box; });
    }
    var flagPanel = document.getElementById("flag-panel");
    var flagButton = document.getElementById("flag");
    var ignoreButton = document.getElementById("ignore");
    var busy = false;
    function submit(f, action) {
      if (busy) return; busy = true;
      if (action) {
        var h = document.createElement("input"); h.type = "hidden"; h.name = "action"; h.value = action; f.appendChild(h);
      }
      f.submit();
    }
    // X: a flag needs a reason, so the key opens the reason choice and puts the focus on it
    function chooseReason() {
      if (flagPanel) flagPanel.open = true;
      var r = form.querySelector("input[name=reason]:checked") || form.querySelector("input[name=reason]");
      if (r) r.focus();
    }
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      var t = e.target;
      if (form && t && t.tagName === "INPUT" && t.name === "reason") {
        // on the reasons: arrows move (the browser's own radio keys); Enter or X flags with the focused
        // one (Enter alone would send the form's first button, Save); Esc goes back to the labels
        if (e.key === "Enter" || e.key.toLowerCase() === "x") {
          e.preventDefault(); t.checked = true; submit(form, "flag");
        } else if (e.key === "Escape") {
          e.preventDefault(); t.blur(); if (flagPanel) flagPanel.open = false;
        }
        return;
      }
      if (t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type !== "checkbox"))) {
        if (e.key === "Escape") t.blur();  // out of the comment box: the keys label again
        return;
      }
      if (t && t.id === "show-suggestions") return;  // its own box: Enter/space toggle it, not the labels
      var k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      if (form && byKey[k]) { byKey[k].checked = !byKey[k].checked; e.preventDefault(); return; }
      if (form && k === "Enter") { e.preventDefault(); submit(form, "label"); return; }
      if (cancel && k === "Escape") { e.preventDefault(); location.href = cancel.href; return; }
      if (form && k === "k" && !form.dataset.mode) { e.preventDefault(); submit(form, "skip"); return; }
      if (form && k === "x" && flagButton) { e.preventDefault(); chooseReason(); return; }
      if (form && k === "i" && ignoreButton) { e.preventDefault(); submit(form, "ignore"); return; }
      if (undo && k === "u") { e.preventDefault(); submit(undo, null); return; }
      if (guide && k === "g") { e.preventDefault(); location.href = guide.href; }
    });
    // the keys work from here on (browser tests wait for it before pressing any)
    document.documentElement.dataset.js = "ready";
  });
})();
