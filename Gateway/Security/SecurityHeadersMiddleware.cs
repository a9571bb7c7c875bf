namespace Reference.Gateway.Security;

/// <summary>
/// Browser hardening headers on every response, proxied ones included, and no header that names
/// the server software (Kestrel's own is off; a backend's <c>Server</c> is dropped here). HSTS only
/// over TLS.
/// </summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    // Everything from this origin only: no CDN, no inline script or style, never framed. Images may also be
    // data: URIs, for the placeholders the pages show until an image loads.
    public const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var response = (HttpResponse)state;
            var headers = response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            // HTTPS here means TLS this gateway saw, or a trusted proxy's X-Forwarded-Proto: a client
            // on plain HTTP cannot make the browser pin a host it does not serve over TLS.
            if (response.HttpContext.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000";
            }

            headers.Remove("Server");
            headers.Remove("X-Powered-By");
            return Task.CompletedTask;
        }, context.Response);
        return next(context);
    }
}
