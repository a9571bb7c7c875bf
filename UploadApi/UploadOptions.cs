using Reference.Contracts;

namespace Reference.UploadApi;

/// <summary>The <c>Uploads</c> configuration section.</summary>
public sealed class UploadOptions
{
    public const string Section = "Uploads";

    /// <summary>Largest accepted file, in bytes (413 above it).</summary>
    public long MaxBytes { get; set; } = ImageLimits.MaxBytes;

    /// <summary>Pixel-flood guard: largest accepted width × height.</summary>
    public long MaxPixels { get; set; } = ImageLimits.MaxPixels;

    /// <summary>Pixel-flood guard: longest accepted side.</summary>
    public int MaxSide { get; set; } = ImageLimits.MaxSide;

    /// <summary>How long the request waits for the broker before leaving the job to the sweeper.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Between two keep-alive comments on an event stream; each one also re-reads the row.</summary>
    public TimeSpan EventsKeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>An event stream ends after this long whatever the upload's state; a client that still cares reconnects.</summary>
    public TimeSpan EventsMaxLifetime { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>The <c>Uploads:Sweeper</c> configuration section.</summary>
public sealed class SweeperOptions
{
    public const string Section = "Uploads:Sweeper";

    /// <summary>Between two sweeps.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A Pending upload no worker has started after this long is published again.</summary>
    public TimeSpan PendingTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Longest wait between publishes of a Pending upload no worker takes: each publish no worker
    /// started doubles the wait from <see cref="PendingTimeout"/> up to this, so an empty pool is not flooded.
    /// </summary>
    public TimeSpan MaxPendingTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A Processing upload that has not finished after this long is published again.</summary>
    public TimeSpan ProcessingTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A stuck upload that workers started this many times becomes Failed (publishes no worker took do not count).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Most rows looked at in one sweep.</summary>
    public int BatchSize { get; set; } = 100;
}
