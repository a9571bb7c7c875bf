using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Reference.Storage;

namespace Reference.UploadApi.Storage;

/// <summary>Free space on the image storage's file system, against <see cref="StorageOptions"/>' thresholds, before writes start failing.</summary>
internal sealed class StorageSpaceHealthCheck(IImageStore store, IOptions<StorageOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // On Linux DriveInfo takes any path and asks statfs about the file system holding it. Uploads are
        // written to the staging folder first, with either store (for the local one it is the image folder).
        Directory.CreateDirectory(store.StagingFolder);
        var freeMegabytes = new DriveInfo(store.StagingFolder).AvailableFreeSpace / (1024 * 1024);
        var settings = options.Value;
        var description = $"{freeMegabytes} MB free for images";
        var data = new Dictionary<string, object> { ["freeMegabytes"] = freeMegabytes };
        return Task.FromResult(
            freeMegabytes < settings.UnhealthyBelowMegabytes ? HealthCheckResult.Unhealthy($"{description}; Unhealthy below {settings.UnhealthyBelowMegabytes} MB.", data: data)
            : freeMegabytes < settings.DegradedBelowMegabytes ? HealthCheckResult.Degraded($"{description}; Degraded below {settings.DegradedBelowMegabytes} MB.", data: data)
            : HealthCheckResult.Healthy(description, data));
    }
}
