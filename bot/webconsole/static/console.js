// The console's only script (no inline script anywhere: the CSP forbids it).
// - the period presets: "last N days" fill the dates and submit the form;
// - forms with data-confirm ask first (removing an account);
// - a group just marked is scrolled into view.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  function iso(d) { return d.toISOString().slice(0, 10); }
  document.querySelectorAll("button[data-days]").forEach(function (button) {
    button.addEventListener("click", function () {
      var form = button.closest("form");
      var days = parseInt(button.getAttribute("data-days"), 10);
      var end = new Date();
      var start = new Date(end.getTime() - (days - 1) * 86400000);
      form.querySelector("input[name=from]").value = iso(start);
      form.querySelector("input[name=to]").value = iso(end);
      form.submit();
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  var marked = document.querySelector(".cluster[data-marked]");
  if (marked) { marked.scrollIntoView({block: "center"}); }
});
