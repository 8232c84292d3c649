// Behaviour shared by every page. The Content-Security-Policy forbids inline script, so
// markup asks for behaviour through data- attributes and this file provides it.

// <select data-autosubmit> submits its form when the choice changes (the language switcher).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit") && field.form) {
    field.form.requestSubmit();
  }
});
