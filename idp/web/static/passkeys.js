// Passkey ceremonies (WebAuthn) for the forms marked data-passkey: "create" adds a passkey,
// "get" signs in or steps up with one. The gateway's options come from data-options as JSON
// (py_webauthn's options_to_json), go to the browser as they are (parse*OptionsFromJSON),
// and the browser's answer goes back as JSON (credential.toJSON()) with the form itself, so the
// page the answer ends in is an ordinary page. When anything fails the form is posted with
// failure=1, and the gateway says what to do next. Without this script, or in a browser
// without these functions, the passkey sections stay hidden.
(function () {
  "use strict";
  var PKC = window.PublicKeyCredential;
  if (!PKC || !PKC.parseCreationOptionsFromJSON || !PKC.parseRequestOptionsFromJSON ||
      !window.fetch || !navigator.credentials) {
    return;
  }

  function ceremony(kind, options) {
    if (kind === "create") {
      return navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(options) });
    }
    return navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(options) });
  }

  function run(form) {
    var body = new URLSearchParams(new FormData(form));
    var username = form.getAttribute("data-username");
    var field = username && document.getElementById(username);
    if (field) { body.set("username", field.value); }
    form.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("data-options"), {
      method: "POST",
      body: body,
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (start) {
      if (start.sign_in) {
        window.location.assign(start.sign_in);
        return null;
      }
      form.elements.ceremony.value = start.ceremony;
      return ceremony(form.getAttribute("data-passkey"), start.options).then(function (credential) {
        if (!credential) { throw new Error("no credential"); }
        form.elements.credential.value = JSON.stringify(credential.toJSON());
        if (field && form.elements.username) { form.elements.username.value = field.value; }
        form.submit();
      });
    }).catch(function () {
      form.elements.credential.value = "";
      form.elements.failure.value = "1";
      form.submit();
    });
  }

  var forms = document.querySelectorAll("form[data-passkey]");
  for (var i = 0; i < forms.length; i += 1) {
    (function (form) {
      var section = form.closest("[data-passkey-section]");
      if (section) { section.hidden = false; }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        run(form);
      });
    }(forms[i]));
  }
}());
