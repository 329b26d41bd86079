/* The account page's retirement form: the judicial-restoration fields show only for that
 * purpose (without scripts they always show; the registry checks them either way). */
(function () {
  "use strict";
  function update() {
    var purpose = document.getElementById("retire-purpose");
    var fields = document.getElementById("judicial-fields");
    if (!purpose || !fields) { return; }
    fields.hidden = purpose.value !== "judicial_restoration";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var purpose = document.getElementById("retire-purpose");
    if (purpose) { purpose.addEventListener("change", update); }
    update();
  });
})();
