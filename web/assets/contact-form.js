// The contact form (pages/contact_form.rs).
//
// Extra fields: each box says which types it applies to (data-types, "*" for all). When the
// type changes, a box is shown if it applies, holds a value or has an error; a hidden box
// is disabled, so its inputs are not sent. A shown box that doesn't apply is marked
// (data-na): its value is sent and the server refuses it with a message, never drops it.
//
// Company picker: the datalist is filled from the company search as the user types; each
// option reads "Name (City) #id" and the server takes the id after "#".
//
// Without this script the form still works: the server shows the boxes of the type it was
// given and refuses what doesn't apply.
(function () {
  'use strict';
  var form = document.getElementById('contact-form');
  if (!form) return;

  function holdsValue(box) {
    var inputs = box.querySelectorAll('input, select, textarea');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === 'hidden') continue;
      if (input.type === 'checkbox') {
        if (input.checked) return true;
      } else if (input.value.trim() !== '') {
        return true;
      }
    }
    return false;
  }

  function showFieldsOf(type) {
    var boxes = form.querySelectorAll('fieldset.field[data-types]');
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      var types = box.getAttribute('data-types');
      var applies = types === '*' || (type !== '' && types.split(' ').indexOf(type) >= 0);
      var shown = applies || holdsValue(box) || box.hasAttribute('data-error');
      box.hidden = !shown;
      box.disabled = !shown;
      if (shown && !applies) box.setAttribute('data-na', ''); else box.removeAttribute('data-na');
    }
  }

  var typeSelect = form.querySelector('select[name=type]');
  if (typeSelect) {
    typeSelect.addEventListener('change', function () { showFieldsOf(typeSelect.value); });
  }
  // A value cleared in a box that doesn't apply lets the box go.
  form.addEventListener('change', function (event) {
    if (typeSelect && event.target !== typeSelect && event.target.closest('fieldset.field[data-na]')) {
      showFieldsOf(typeSelect.value);
    }
  });

  var company = form.querySelector('input[name=company]');
  var list = document.getElementById('company-options');
  var searchUrl = form.getAttribute('data-company-search');
  if (company && list && searchUrl) {
    var timer = null;
    var asked = null;
    company.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = company.value.trim();
        if (q === asked) return;
        asked = q;
        fetch(searchUrl + '?q=' + encodeURIComponent(q), { credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            if (asked !== q) return;
            while (list.firstChild) list.removeChild(list.firstChild);
            items.forEach(function (item) {
              var option = document.createElement('option');
              option.value = item.label;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 200);
    });
  }
})();
