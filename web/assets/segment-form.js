// The segment form: shows the filter only for a dynamic segment, and beside the builder's
// live count, who would join and who would leave if the filter were saved. The builder
// (filter-builder.js) reads its count from the segment preview URL, whose answer carries
// `joining` and `leaving` ({count, sample: [{id, name}]}) too, and announces each answer
// as a `filter-builder:counted` event; this script only draws them.
(function () {
  "use strict";

  const section = document.getElementById("segment-filter-section");
  for (const radio of document.querySelectorAll("#segment-kind input[name='kind']")) {
    radio.addEventListener("change", () => {
      if (section) section.hidden = radio.value !== "dynamic" || !radio.checked;
    });
  }

  const host = document.getElementById("filter-builder");
  const preview = document.getElementById("segment-preview");
  if (!host || !preview) return;

  function show(kind, change) {
    const count = document.getElementById(kind + "-count");
    const list = document.getElementById(kind + "-sample");
    count.textContent = change.count === 1 ? "1 contact" : change.count + " contacts";
    const items = (change.sample || []).map((c) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "/contacts/" + encodeURIComponent(c.id);
      a.textContent = c.name;
      li.append(a);
      return li;
    });
    if (change.count > items.length && items.length) {
      const more = document.createElement("li");
      more.className = "muted";
      more.textContent = "and " + (change.count - items.length) + " more";
      items.push(more);
    }
    list.replaceChildren(...items);
  }

  host.addEventListener("filter-builder:counted", (e) => {
    const body = e.detail.body;
    if (e.detail.status !== 200 || !body || !body.joining || !body.leaving) {
      // The builder says what is wrong with the filter; nothing to compare meanwhile.
      preview.hidden = true;
      return;
    }
    show("joining", body.joining);
    show("leaving", body.leaving);
    preview.hidden = false;
  });
})();
