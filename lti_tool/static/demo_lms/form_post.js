// The demo LMS's OIDC form_post: send the id_token to the tool at once (no inline script).
document.getElementById("lti-form-post").submit();
