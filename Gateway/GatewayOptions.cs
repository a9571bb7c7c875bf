namespace Reference.Gateway;

/// <summary>
/// The gateway's own limits, bound from the <c>Gateway</c> configuration section. Per-route body
/// sizes live on the routes themselves (<c>ReverseProxy:Routes:*:MaxRequestBodySize</c>).
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

    /// <summary>Rate limiter policy <c>api</c>, per client address.</summary>
    public RateLimit ApiRateLimit { get; set; } = new() { PermitLimit = 300, Window = TimeSpan.FromSeconds(10) };

    /// <summary>Rate limiter policy <c>uploads</c> (new uploads only), per client address.</summary>
    public RateLimit UploadRateLimit { get; set; } = new() { PermitLimit = 20, Window = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Rate limiter policy <c>uploads</c> for a request with a valid admin key, per key: bulk-uploading a
    /// catalogue's photos is a normal admin task.
    /// </summary>
    public RateLimit AdminUploadRateLimit { get; set; } = new() { PermitLimit = 600, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Rate limiter policy <c>api</c> for a request with a valid admin key, per key.</summary>
    public RateLimit AdminApiRateLimit { get; set; } = new() { PermitLimit = 600, Window = TimeSpan.FromSeconds(10) };

    /// <summary>Rate limiter policy <c>events</c>: upload status streams one client may hold open at once.</summary>
    public int EventStreamsPerClient { get; set; } = 8;

    /// <summary>Requests in flight at once, whatever their addresses; past it (and the queue) 503.</summary>
    public int MaxConcurrentRequests { get; set; } = 1000;

    /// <summary>Requests that wait for a free slot when <see cref="MaxConcurrentRequests"/> are in flight.</summary>
    public int ConcurrentRequestQueue { get; set; } = 200;

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

    public sealed class RateLimit
    {
        public int PermitLimit { get; set; }
        public TimeSpan Window { get; set; }
    }
}
