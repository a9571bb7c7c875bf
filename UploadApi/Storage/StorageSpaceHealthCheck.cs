using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Reference.Contracts;

namespace Reference.UploadApi.Storage;

/// <summary>Free space on the image storage's file system, against <see cref="StorageOptions"/>' thresholds, before writes start failing.</summary>
internal sealed class StorageSpaceHealthCheck(IOptions<ImageStorage> storage, IOptions<StorageOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // On Linux DriveInfo takes any path and asks statfs about the file system holding it.
        var freeMegabytes = new DriveInfo(Path.GetFullPath(storage.Value.Root)).AvailableFreeSpace / (1024 * 1024);
        var settings = options.Value;
        var description = $"{freeMegabytes} MB free for images";
        var data = new Dictionary<string, object> { ["freeMegabytes"] = freeMegabytes };
        return Task.FromResult(
            freeMegabytes < settings.UnhealthyBelowMegabytes ? HealthCheckResult.Unhealthy($"{description}; Unhealthy below {settings.UnhealthyBelowMegabytes} MB.", data: data)
            : freeMegabytes < settings.DegradedBelowMegabytes ? HealthCheckResult.Degraded($"{description}; Degraded below {settings.DegradedBelowMegabytes} MB.", data: data)
            : HealthCheckResult.Healthy(description, data));
    }
}
