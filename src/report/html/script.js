// plumb's HTML report (src/report/html.rs): filters rows and builds a finding's details when it
// is opened. Reads only this page: no request, no clock (ages are in the page already).
"use strict";
(function () {
  var dataNode = document.getElementById("plumb-data");
  var data = dataNode ? JSON.parse(dataNode.textContent) : { details: {} };
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[id^='f-'], tr[data-row]"));
  // Each finding's environments: its own, else those its table's rows share. And its details
  // button (not in the page, to keep 5,000 rows small).
  var envs = rows.map(function (row) {
    if (!row.id) { return []; }
    var table = row.closest("table");
    var e = row.dataset.e !== undefined ? row.dataset.e : (table ? table.dataset.implied : "");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "x";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-label", "details of " + row.cells[1].textContent + " " + row.cells[2].textContent);
    button.textContent = "▸";
    row.cells[0].insertBefore(button, row.cells[0].firstChild);
    return e ? e.split(" ") : [];
  });
  // What the filter searches: a row's text and its object's kind (the first word of its group's
  // header, `apps/Deployment`).
  var texts = rows.map(function (row) {
    var header = row.parentNode.querySelector("tr.eh");
    var kind = header ? header.textContent.split(" ")[0] : "";
    return (row.textContent + " " + kind).toLowerCase();
  });
  var filter = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var toggles = Array.prototype.slice.call(document.querySelectorAll("input[data-toggle]"));

  function allowed() {
    var off = { s: {}, v: {}, e: {} };
    toggles.forEach(function (t) { if (!t.checked) { off[t.dataset.toggle][t.value] = true; } });
    return off;
  }

  function apply() {
    var needle = filter ? filter.value.trim().toLowerCase() : "";
    var off = allowed();
    var count = 0;
    rows.forEach(function (row, i) {
      var visible = !needle || texts[i].indexOf(needle) !== -1;
      if (visible && row.id) {
        visible = !off.s[row.classList[0]] && !off.v[row.classList[1]] &&
          envs[i].every(function (e) { return !off.e[e]; });
      }
      row.hidden = !visible;
      var details = row.nextElementSibling;
      if (details && details.classList.contains("dt")) { details.hidden = !visible; }
      if (visible) { count += 1; }
    });
    // A group's header goes when none of its rows is left.
    Array.prototype.forEach.call(document.querySelectorAll("tbody"), function (body) {
      var header = body.querySelector("tr.eh");
      if (header) {
        header.hidden = !body.querySelector("tr[id^='f-']:not([hidden]), tr[data-row]:not([hidden])");
      }
    });
    if (shown) { shown.textContent = count + " of " + rows.length + " " + (shown.dataset.noun || "findings") + " shown"; }
  }

  function add(list, term, text, href) {
    if (!text) { return; }
    var dt = document.createElement("dt");
    dt.textContent = term;
    var dd = document.createElement("dd");
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      dd.appendChild(a);
    } else {
      dd.textContent = text;
    }
    list.appendChild(dt);
    list.appendChild(dd);
  }

  function details(row) {
    var d = data.details[row.id.slice(2)] || {};
    var tr = document.createElement("tr");
    tr.className = "dt";
    var td = document.createElement("td");
    td.colSpan = row.cells.length;
    var list = document.createElement("dl");
    list.className = "d";
    var source = function (s) {
      return s && (data.files[s[0]] + (s[1] ? ":" + s[1] : ""));
    };
    // The web page of a source, when the report knows the repository's (`links.source`).
    var sourceLink = function (s) {
      if (!s || !data.link) { return null; }
      var template = data.link;
      if (!s[1] && template.lastIndexOf("#") > template.indexOf("{file}")) {
        template = template.slice(0, template.lastIndexOf("#"));
      }
      var url = template.replace("{file}", data.files[s[0]].split("/").map(encodeURIComponent).join("/"))
        .replace("{line}", String(s[1]));
      return /^https?:\/\//.test(url) ? url : null;
    };
    add(list, "finding", row.cells[0].textContent.replace(/[▸▾]/g, "").trim() + " on " + row.cells[1].textContent);
    add(list, "message", d.m);
    if (d.l) { add(list, d.l[0], d.l[1]); }
    if (d.r) { add(list, d.r[0], d.r[1]); }
    if (d.d) {
      add(list, "line diff", " ");
      var pre = document.createElement("pre");
      pre.textContent = d.d[0] + "\n" + d.d[1];
      list.lastChild.textContent = "";
      list.lastChild.appendChild(pre);
    }
    add(list, "declared in Git", source(d.s), sourceLink(d.s));
    add(list, "other side in Git", source(d.o), sourceLink(d.o));
    add(list, "changed by", d.by);
    add(list, "promotion", d.p);
    add(list, "first seen", d.fs);
    add(list, "this change", d.bc);
    td.appendChild(list);
    tr.appendChild(td);
    return tr;
  }

  function toggle(button, open) {
    var row = button.closest("tr");
    var next = row.nextElementSibling;
    var present = next && next.classList.contains("dt");
    if (open === undefined) { open = !present || next.hidden; }
    if (open) {
      if (!present) { row.parentNode.insertBefore(details(row), row.nextSibling); } else { next.hidden = false; }
    } else if (present) {
      next.hidden = true;
    }
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "▾" : "▸";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.x") : null;
    if (button) { toggle(button); }
  });
  if (filter) { filter.addEventListener("input", apply); }
  toggles.forEach(function (t) { t.addEventListener("change", apply); });
  Array.prototype.forEach.call(document.querySelectorAll("form.filters"), function (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); });
  });
  // Printed, the page shows everything: every section and finding open.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
    Array.prototype.forEach.call(document.querySelectorAll("button.x"), function (b) { toggle(b, true); });
  });
  apply();
})();
