// The contacts table's "select all on this page": ticking it ticks every row's box, and a
// row's box unticked clears it. Without this script the page still works: the server reads
// a ticked "select all" as the whole page.
(function () {
  'use strict';
  function boxes(form) {
    return Array.prototype.slice.call(
      document.querySelectorAll('input[type=checkbox][name=contact_ids][form="' + form + '"]'));
  }
  document.addEventListener('change', function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'checkbox') return;
    var form = input.getAttribute('form');
    if (!form) return;
    if (input.hasAttribute('data-select-all')) {
      boxes(form).forEach(function (b) { b.checked = input.checked; });
    } else if (input.name === 'contact_ids') {
      var all = document.querySelector('input[data-select-all][form="' + form + '"]');
      if (!all) return;
      var rows = boxes(form);
      var ticked = rows.filter(function (b) { return b.checked; }).length;
      all.checked = ticked === rows.length && rows.length > 0;
      all.indeterminate = ticked > 0 && ticked < rows.length;
    }
  });
})();
