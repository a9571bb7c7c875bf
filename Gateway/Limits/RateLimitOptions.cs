namespace Reference.Gateway.Limits;

/// <summary>
/// The numbers behind <see cref="GatewayRateLimiting"/>'s policies, from the <c>Gateway</c> section.
/// They are set in appsettings.json only: a missing one stops the start instead of meaning "no limit".
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Policy <c>api</c>, per client address.</summary>
    public RateLimit ApiRateLimit { get; set; } = new();

    /// <summary>Policy <c>uploads</c> (new uploads only), per client address.</summary>
    public RateLimit UploadRateLimit { get; set; } = new();

    /// <summary>Policy <c>api</c> for a request with a valid admin key, per key.</summary>
    public RateLimit AdminApiRateLimit { get; set; } = new();

    /// <summary>Policy <c>uploads</c> for a request with a valid admin key, per key: bulk-uploading a catalogue's photos is a normal admin task.</summary>
    public RateLimit AdminUploadRateLimit { get; set; } = new();

    /// <summary>Policy <c>events</c>: upload status streams one client may hold open at once.</summary>
    public int EventStreamsPerClient { get; set; }

    /// <summary>Requests in flight at once, whatever their addresses; past it (and the queue) 503.</summary>
    public int MaxConcurrentRequests { get; set; }

    /// <summary>Requests that wait for a free slot when <see cref="MaxConcurrentRequests"/> are in flight.</summary>
    public int ConcurrentRequestQueue { get; set; }

    internal bool IsComplete =>
        new[] { ApiRateLimit, UploadRateLimit, AdminApiRateLimit, AdminUploadRateLimit }.All(l => l.PermitLimit > 0 && l.Window > TimeSpan.Zero)
        && EventStreamsPerClient > 0 && MaxConcurrentRequests > 0 && ConcurrentRequestQueue >= 0;

    public sealed class RateLimit
    {
        public int PermitLimit { get; set; }
        public TimeSpan Window { get; set; }
    }
}
