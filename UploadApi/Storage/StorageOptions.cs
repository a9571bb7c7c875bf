namespace Reference.UploadApi.Storage;

/// <summary>UploadApi's own settings in the <c>Storage</c> section, beside the shared store's (Storage/ImageStoreSettings.cs).</summary>
public sealed class StorageOptions
{
    /// <summary>
    /// How long an original stays after its upload is Ready. Originals keep the uploader's GPS and camera
    /// tags, so this is a privacy setting; the grace covers a redelivered or re-published job still in flight.
    /// </summary>
    public TimeSpan KeepOriginals { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long the original of a Failed upload stays: the window to look at it, or for a late result to still make it Ready.</summary>
    public TimeSpan KeepFailedOriginals { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A temporary file, or an original no upload row names, older than this is left over from a killed request.</summary>
    public TimeSpan OrphanAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Between two sweeps of the storage folder.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Free space (where uploads are staged: the image folder, or the staging folder with S3) under which the storage health check reports Degraded: uploads still work, but act now.</summary>
    public long DegradedBelowMegabytes { get; set; } = 2048;

    /// <summary>Free space under which it reports Unhealthy: the next uploads would fail to write.</summary>
    public long UnhealthyBelowMegabytes { get; set; } = 200;
}
