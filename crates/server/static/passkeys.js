// Passkeys: the browser's half of a WebAuthn ceremony. A form marked `data-passkey` ("register"
// or "authenticate") first posts its fields (with its CSRF token) to its `data-options` address,
// which answers the ceremony's id and WebAuthn options (binary values as base64url); the browser
// asks the authenticator (navigator.credentials.create or .get); the answer goes into the form's
// hidden `credential` field (JSON, binary values as base64url) and the form is submitted as
// usual, so the server answers with a page. Without JavaScript such forms stay hidden and a
// <noscript> note says why.
(function () {
  "use strict";

  function toBase64Url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) {
      text += String.fromCharCode(bytes[i]);
    }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64Url(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) {
      bytes[i] = text.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function withBuffers(descriptors) {
    return (descriptors || []).map(function (descriptor) {
      var copy = Object.assign({}, descriptor);
      copy.id = fromBase64Url(descriptor.id);
      return copy;
    });
  }

  function creationOptions(publicKey) {
    var options = Object.assign({}, publicKey);
    options.challenge = fromBase64Url(publicKey.challenge);
    options.user = Object.assign({}, publicKey.user, { id: fromBase64Url(publicKey.user.id) });
    if (publicKey.excludeCredentials) {
      options.excludeCredentials = withBuffers(publicKey.excludeCredentials);
    }
    return options;
  }

  function requestOptions(publicKey) {
    var options = Object.assign({}, publicKey);
    options.challenge = fromBase64Url(publicKey.challenge);
    if (publicKey.allowCredentials) {
      options.allowCredentials = withBuffers(publicKey.allowCredentials);
    }
    return options;
  }

  function registration(credential) {
    return {
      id: credential.id,
      rawId: toBase64Url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toBase64Url(credential.response.attestationObject),
        clientDataJSON: toBase64Url(credential.response.clientDataJSON),
      },
      extensions: credential.getClientExtensionResults(),
    };
  }

  function assertion(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64Url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toBase64Url(response.authenticatorData),
        clientDataJSON: toBase64Url(response.clientDataJSON),
        signature: toBase64Url(response.signature),
        userHandle: response.userHandle ? toBase64Url(response.userHandle) : null,
      },
      extensions: credential.getClientExtensionResults(),
    };
  }

  function start(form) {
    var kind = form.getAttribute("data-passkey");
    var status = form.querySelector("[data-passkey-status]");
    var button = form.querySelector("button[type=submit]");
    var say = function (message) {
      if (status) {
        status.textContent = message;
      }
      if (button) {
        button.disabled = false;
      }
    };
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.PublicKeyCredential || !navigator.credentials) {
        say("This browser cannot use passkeys.");
        return;
      }
      if (button) {
        button.disabled = true;
      }
      say("");
      var fields = new URLSearchParams();
      ["csrf_token", "name"].forEach(function (name) {
        var field = form.elements.namedItem(name);
        if (field) {
          fields.append(name, field.value);
        }
      });
      fetch(form.getAttribute("data-options"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: fields.toString(),
      })
        .then(function (response) {
          return response.json().catch(function () {
            return {};
          }).then(function (body) {
            if (!response.ok) {
              throw new Error(body.error || "The passkey request failed. Reload the page and try again.");
            }
            return body;
          });
        })
        .then(function (body) {
          form.elements.namedItem("ceremony").value = body.ceremony;
          if (kind === "register") {
            return navigator.credentials
              .create({ publicKey: creationOptions(body.publicKey) })
              .then(registration);
          }
          return navigator.credentials.get({ publicKey: requestOptions(body.publicKey) }).then(assertion);
        })
        .then(function (answer) {
          form.elements.namedItem("credential").value = JSON.stringify(answer);
          form.submit();
        })
        .catch(function (error) {
          if (error && error.name === "NotAllowedError") {
            say("The passkey was not used (cancelled or timed out). Try again.");
          } else if (error && error.name === "InvalidStateError") {
            say("This authenticator already holds a passkey for your account.");
          } else {
            say((error && error.message) || "The passkey did not work. Try again.");
          }
        });
    });
  }

  document.querySelectorAll("form[data-passkey]").forEach(start);
})();
