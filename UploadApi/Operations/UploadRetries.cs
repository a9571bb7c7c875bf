using Reference.Storage;
using System.Diagnostics;
using System.Security.Cryptography;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Model;
using Reference.UploadApi.Uploads;
using StackExchange.Redis;

namespace Reference.UploadApi.Operations;

/// <summary>
/// An operator's retry of a Failed upload whose original is intact (present, with the hash it had when
/// accepted): Pending again, the worker's poison count cleared, and published as a new attempt. Anything
/// else is refused with the reason and changes nothing.
/// </summary>
public sealed class UploadRetries(
    UploadDbContext db,
    UploadTransitions transitions,
    IPublishEndpoint publish,
    IConnectionMultiplexer redis,
    IImageStore store,
    IOptions<SweeperOptions> sweeper,
    IOptions<UploadOptions> uploadOptions,
    ILogger<UploadRetries> logger)
{
    public async Task<RetryOutcome> RetryAsync(Guid id, CancellationToken cancellationToken)
    {
        using var activity = OperationsTelemetry.Source.StartActivity("ops retry upload");
        activity?.SetTag("upload.id", id);
        var upload = await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (upload is null)
        {
            return RetryOutcome.NotFound;
        }

        if (upload.Status != UploadStatus.Failed)
        {
            return RetryOutcome.Refused($"Upload {id} is {upload.Status}: only a Failed upload can be retried.");
        }

        if (!await OriginalIntactAsync(upload, cancellationToken))
        {
            return RetryOutcome.Refused($"The original of upload {id} is missing or no longer the file that was accepted; upload the image again.");
        }

        // Before the row changes: a worker must not count this new run against the deaths that failed it.
        var database = redis.GetDatabase();
        await database.KeyDeleteAsync([WorkerControl.AttemptsKey(id), WorkerControl.AloneAttemptsKey(id)]);
        if (await transitions.RequeueFailedAsync(upload, sweeper.Value.PendingTimeout, cancellationToken) is not { } attempt)
        {
            return RetryOutcome.Refused($"Upload {id} changed while it was being retried; look again.");
        }

        logger.LogWarning("An operator retried upload {UploadId} (attempt {Attempt}); it failed with: {Reason}", id, attempt, upload.Reason);
        using var timeout = new CancellationTokenSource(uploadOptions.Value.PublishTimeout);
        try
        {
            await publish.Publish(new ImageUploaded(upload.Id, upload.ProductId, upload.OriginalKey, upload.ContentType, attempt), timeout.Token);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Publishing the retry of upload {UploadId} failed; the sweeper will publish it", id);
            await transitions.GiveBackAttemptAsync(id, attempt, TimeSpan.Zero, CancellationToken.None);
        }

        return RetryOutcome.Accepted;
    }

    private async Task<bool> OriginalIntactAsync(Upload upload, CancellationToken cancellationToken)
    {
        await using var original = await store.GetAsync(upload.OriginalKey, cancellationToken);
        if (original is null)
        {
            return false;
        }

        var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(original.Content, cancellationToken));
        return hash == upload.Sha256;
    }
}

public sealed record RetryOutcome(bool Found, string? Refusal)
{
    public static readonly RetryOutcome NotFound = new(false, null);
    public static readonly RetryOutcome Accepted = new(true, null);

    public static RetryOutcome Refused(string reason) => new(true, reason);
}

/// <summary>The traces and metrics of the operations console (<c>Reference.*</c> is collected by the service defaults).</summary>
public static class OperationsTelemetry
{
    public static readonly ActivitySource Source = new("Reference.UploadApi.Operations");
}
