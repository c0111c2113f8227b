// Swagger UI for the local stack: every asset and the document come from this server.
"use strict";
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // the default asks validator.swagger.io; everything must work offline
    persistAuthorization: true,
    tryItOutEnabled: false,
  });
});
