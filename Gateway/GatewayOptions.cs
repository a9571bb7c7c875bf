namespace Reference.Gateway;

/// <summary>
/// The gateway's own limits, bound from the <c>Gateway</c> configuration section. Per-route body
/// sizes live on the routes themselves (<c>ReverseProxy:Routes:*:MaxRequestBodySize</c>), rate
/// limits beside their policies (<see cref="Limits.RateLimitOptions"/>).
/// </summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>A client must send all request headers within this time (slow-loris defence).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A request body slower than this (after the grace period) is cut off with 408.</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Body limit for everything that is not a proxied route (routes set their own).</summary>
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;

    /// <summary>Timeout policy <c>api</c>: reads and admin calls of the backends.</summary>
    public TimeSpan ApiTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout policy <c>uploads</c>: a 25 MB upload over a slow line needs minutes, not seconds.</summary>
    public TimeSpan UploadTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Addresses (<c>10.0.0.5</c>) or networks (<c>10.89.0.0/16</c>) of the proxies whose
    /// <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed. Empty (the default): nobody's.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// How many destinations a request may try when its connection fails: any request whose connection
    /// was refused, and a GET or HEAD whose connection failed later (see <c>SafeRequestRetry</c>).
    /// </summary>
    public int MaxAttemptsForSafeRequests { get; set; } = 2;
}
