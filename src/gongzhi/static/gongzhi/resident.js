// The resident's pages. The Content-Security-Policy forbids inline script, so the markup
// asks for behaviour through classes and data- attributes; everything works without this
// file too (all questions shown, no photo count, a plain print button that does nothing).

// Show only the extra questions of the chosen category (each block says which it is for).
function showQuestionsFor(form) {
  const chosen = form.querySelector("input[name=category]:checked");
  for (const block of form.querySelectorAll("[data-questions-for]")) {
    block.hidden = !chosen || block.dataset.questionsFor !== chosen.value;
  }
}

// "2 photos chosen: a.jpg, b.jpg" under the photo buttons, and a warning past the limit.
function countPhotos(form) {
  const note = form.querySelector("[data-photo-count]");
  if (!note) return;
  const names = [];
  for (const input of form.querySelectorAll("input.photo-input")) {
    for (const file of input.files) names.push(file.name);
  }
  const limit = Number(note.dataset.limit);
  let text = note.dataset.none;
  if (names.length > limit) text = note.dataset.tooMany;
  else if (names.length > 0) text = note.dataset.chosen;
  // The sentences come translated from the page, with {n} and {names} to fill in.
  note.textContent = text.replace("{n}", names.length).replace("{names}", names.join("、"));
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("report-form");
  if (form) {
    showQuestionsFor(form);
    form.addEventListener("change", (event) => {
      if (event.target.name === "category") showQuestionsFor(form);
      if (event.target.classList.contains("photo-input")) countPhotos(form);
    });
  }
});

// A form's submit button with data-submit-once is disabled once pressed, so an impatient
// second tap does not send the report again (the idempotency key would catch it anyway).
document.addEventListener("submit", (event) => {
  const button = event.target.querySelector("[data-submit-once]");
  if (!button) return;
  if (button.dataset.busyText) button.textContent = button.dataset.busyText;
  // Disabled after the browser has collected the form, or the button's value is lost.
  setTimeout(() => { button.disabled = true; }, 0);
});

// <button data-print> prints the page (the poster).
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
});
