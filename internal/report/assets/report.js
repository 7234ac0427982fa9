// fwpush report: filtering and highlighting of the matrix, copy buttons,
// and a filter for devices. Everything is local: no request ever leaves
// the page (its Content-Security-Policy forbids it anyway).
(function () {
  "use strict";
  var doc = document;
  var table = doc.getElementById("matrix-table");
  var filter = doc.getElementById("filter");
  var count = doc.getElementById("matrix-count");
  var cells = table ? table.querySelectorAll("td") : [];

  function update() {
    var q = filter ? filter.value.trim().toLowerCase() : "";
    var shown = 0, total = 0;
    cells.forEach(function (td) {
      if (!td.classList.contains("on")) { return; }
      total++;
      var hit = !q || td.dataset.from.toLowerCase().indexOf(q) >= 0 || td.dataset.to.toLowerCase().indexOf(q) >= 0 ||
        td.textContent.toLowerCase().indexOf(q) >= 0;
      td.classList.toggle("filtered-out", !hit);
      if (hit) { shown++; }
    });
    if (table) {
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var any = tr.querySelector("td.on:not(.filtered-out)");
        tr.classList.toggle("filtered-out", !!q && !any);
      });
    }
    if (count) { count.textContent = q ? shown + " of " + total + " cells match" : total + " cells, " + countRoles() + " sources"; }
    doc.documentElement.setAttribute("data-report-ready", String(total));
  }

  function countRoles() { return table ? table.querySelectorAll("tbody tr").length : 0; }

  // The row and column of the cell under the pointer are highlighted:
  // a reviewer follows "who talks to whom" without losing the headers.
  function hover(td, on) {
    if (!td || td.tagName !== "TD") { return; }
    var row = td.parentElement, col = Array.prototype.indexOf.call(row.children, td);
    row.querySelectorAll("td, th").forEach(function (c) { c.classList.toggle("hl", on); });
    table.querySelectorAll("tr").forEach(function (tr) {
      var c = tr.children[col];
      if (c) { c.classList.toggle("hl", on); }
    });
  }
  if (table) {
    table.addEventListener("mouseover", function (e) { hover(e.target.closest("td"), true); });
    table.addEventListener("mouseout", function (e) { hover(e.target.closest("td"), false); });
  }
  if (filter) { filter.addEventListener("input", update); }

  doc.querySelectorAll("button.copy").forEach(function (b) {
    b.addEventListener("click", function () {
      var pre = doc.getElementById(b.dataset.copy);
      var text = pre ? pre.textContent : "";
      var done = function () { b.textContent = "copied"; setTimeout(function () { b.textContent = "copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(pre); });
      } else {
        select(pre);
      }
    });
  });
  function select(el) {
    var r = doc.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }

  var only = doc.getElementById("only-issues");
  if (only) {
    only.addEventListener("change", function () {
      doc.querySelectorAll("article.device").forEach(function (a) {
        a.classList.toggle("hidden", only.checked && !a.dataset.issue);
      });
    });
  }
  update();
})();
