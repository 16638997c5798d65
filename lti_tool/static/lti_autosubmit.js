// Posts the form marked data-autosubmit as soon as the page loads (deep-linking return).
// A separate file, not inline script, so a strict Content-Security-Policy allows it.
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) { form.submit(); });
