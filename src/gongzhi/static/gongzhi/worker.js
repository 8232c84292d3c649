// The worker pages (inbox, case page, fast entry). The Content-Security-Policy forbids
// inline script, so markup asks for behaviour with data- attributes and ids, and this file
// provides it. Everything here is an enhancement: the pages work without it.

// A refusal (403 not allowed, 409 changed by someone else, 422 bad input) comes back as
// the case panel with the reason and what the worker typed; htmx swaps only 2xx by
// default, so let these through.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status === 403 || status === 409 || status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key !== "Enter" || event.isComposing) {
    return;
  }
  // Ctrl+Enter (⌘+Enter) in a description submits its form; a plain Enter is a new line.
  if (
    (event.ctrlKey || event.metaKey) &&
    field instanceof HTMLTextAreaElement &&
    field.hasAttribute("data-submit-on-ctrl-enter") &&
    field.form
  ) {
    event.preventDefault();
    field.form.requestSubmit();
    return;
  }
  // Enter in the place search takes the first candidate, then moves on to the category
  // while none is chosen; with both set it submits as usual.
  if (field instanceof HTMLInputElement && field.name === "place_query") {
    const options = document.querySelectorAll("#place-options input[name=place]");
    if (options.length && !document.querySelector("#place-options input[name=place]:checked")) {
      options[0].checked = true;
      options[0].dispatchEvent(new Event("change", { bubbles: true }));
    }
    const category = document.getElementById("id_category");
    if (category && !category.value) {
      event.preventDefault();
      category.focus();
    }
  }
});

// Picking a place with the keyboard or a tap moves on to the category.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLInputElement && field.name === "place" && field.closest("#place-options")) {
    const category = document.getElementById("id_category");
    if (category && !category.value) {
      category.focus();
    }
  }
});

// The inbox refreshes as soon as its tab is looked at again, not only every 30 seconds.
document.addEventListener("visibilitychange", () => {
  const table = document.getElementById("inbox-table");
  if (table && document.visibilityState === "visible" && window.htmx) {
    window.htmx.trigger(table, "refresh");
  }
});
