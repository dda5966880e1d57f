// Tooltips for every chart mark with a data-tip attribute; nothing else, nothing fetched.
(function () {
  var tip = document.getElementById("tip");
  function show(event) {
    var text = event.target.getAttribute && event.target.getAttribute("data-tip");
    if (!text) { tip.style.display = "none"; return; }
    tip.textContent = text;
    tip.style.display = "block";
    var x = event.clientX + 14, y = event.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) { x = event.clientX - tip.offsetWidth - 14; }
    if (y + tip.offsetHeight > window.innerHeight) { y = event.clientY - tip.offsetHeight - 14; }
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  document.addEventListener("mousemove", show);
  document.addEventListener("mouseleave", function () { tip.style.display = "none"; });
})();
