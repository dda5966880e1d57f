// sameday dashboard: partial updates and the wall's rotation; nothing fetched from elsewhere.
(function () {
  "use strict";
  function busy() {
    var active = document.activeElement;
    return active && active.closest && active.closest("form") !== null;
  }
  function load(url, then) {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("X-Partial", "1");
    request.onload = function () { if (request.status === 200) { then(request.responseText); } };
    request.send();
  }
  // <main data-refresh="SECONDS">: the page's content is fetched again and swapped in place.
  var main = document.getElementById("main");
  var every = main && parseFloat(main.getAttribute("data-refresh"));
  if (every > 0) {
    setInterval(function () {
      if (document.hidden || busy()) { return; }
      load(location.href, function (html) { main.innerHTML = html; watch(); });
    }, every * 1000);
  }
  // <div data-src="URL" data-every="SECONDS">: replaced by URL's answer until it stops asking.
  function watch() {
    var parts = document.querySelectorAll("[data-src]");
    Array.prototype.forEach.call(parts, function (part) {
      if (part.getAttribute("data-watched")) { return; }
      part.setAttribute("data-watched", "1");
      var wait = (parseFloat(part.getAttribute("data-every")) || 5) * 1000;
      setTimeout(function () {
        load(part.getAttribute("data-src"), function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.firstElementChild;
          if (fresh) { part.replaceWith(fresh); watch(); }
        });
      }, wait);
    });
  }
  watch();
  // The wall: show one slide at a time; after the last, fetch the page again for new numbers.
  var slides = document.querySelector(".slides[data-cycle]");
  if (slides) {
    var seconds = parseFloat(slides.getAttribute("data-cycle")) || 20;
    var shown = 0;
    setInterval(function () {
      var all = slides.querySelectorAll(".slide");
      if (all.length === 0) { return; }
      all[shown % all.length].hidden = true;
      shown += 1;
      if (shown % all.length === 0) {
        load(location.href, function (html) {
          main.innerHTML = html;
          slides = document.querySelector(".slides[data-cycle]") || slides;
        });
      } else {
        all[shown % all.length].hidden = false;
      }
    }, seconds * 1000);
  }
})();
