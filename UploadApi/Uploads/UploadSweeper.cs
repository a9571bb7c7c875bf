using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Model;

namespace Reference.UploadApi.Uploads;

/// <summary>
/// The promise behind the 202: an upload stuck in Pending or Processing past its timeout is
/// published again (the worker is idempotent), and one still stuck after workers started it
/// <see cref="SweeperOptions.MaxAttempts"/> times becomes Failed. A job no worker ever took
/// waits: a missing worker is the operator's to fix (or the scaler's to start), not the upload's fault,
/// and its publishes back off. Every replica sweeps;
/// each row is claimed with a conditional UPDATE first, so only one of them publishes it.
/// </summary>
public sealed class UploadSweeper(
    IServiceScopeFactory scopes, IOptions<SweeperOptions> options, IOptions<UploadOptions> uploadOptions,
    TimeProvider clock, ILogger<UploadSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Sweeping stuck uploads failed; trying again next round");
            }

            await Task.Delay(options.Value.Interval, clock, stoppingToken);
        }
    }

    /// <returns>How many uploads this replica published again.</returns>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<UploadDbContext>();
        var transitions = scope.ServiceProvider.GetRequiredService<UploadTransitions>();
        var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();

        var now = clock.GetUtcNow();
        var stuck = await db.Uploads.AsNoTracking()
            .Where(u => (u.Status == UploadStatus.Pending || u.Status == UploadStatus.Processing) && u.NextAttemptAt <= now)
            .OrderBy(u => u.NextAttemptAt)
            .Take(settings.BatchSize)
            .ToListAsync(cancellationToken);

        var published = 0;
        foreach (var upload in stuck)
        {
            if (upload.Starts >= settings.MaxAttempts)
            {
                if (await transitions.FailStuckAsync(upload, settings.MaxAttempts, cancellationToken))
                {
                    logger.LogWarning("Upload {UploadId} failed after {Starts} starts", upload.Id, upload.Starts);
                }

                continue;
            }

            var retryAfter = upload.Status == UploadStatus.Processing ? settings.ProcessingTimeout : PendingRetryAfter(upload, settings);
            if (await transitions.ClaimRepublishAsync(upload, retryAfter, cancellationToken) is not { } attempt)
            {
                continue; // another replica, or a worker's event, got there first
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(uploadOptions.Value.PublishTimeout);
            try
            {
                await publish.Publish(
                    new ImageUploaded(upload.Id, upload.ProductId, upload.OriginalKey, upload.ContentType, attempt), timeout.Token);
                published++;
                logger.LogInformation("Published upload {UploadId} again (attempt {Attempt}, was {Status})", upload.Id, attempt, upload.Status);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The broker is unreachable: this attempt never reached a worker, so it does not
                // count, and the rest of the batch would only wait for the same timeout.
                logger.LogWarning(e, "Publishing upload {UploadId} again failed; retrying next round", upload.Id);
                await transitions.GiveBackAttemptAsync(upload.Id, attempt, TimeSpan.Zero, CancellationToken.None);
                break;
            }
        }

        return published;
    }

    /// <summary>
    /// A Pending upload's next wait: doubled for each publish no worker started (the copies still wait in
    /// the queue, so more of them only add work for the first worker), up to <see cref="SweeperOptions.MaxPendingTimeout"/>.
    /// </summary>
    public static TimeSpan PendingRetryAfter(Upload upload, SweeperOptions settings)
    {
        var untaken = Math.Clamp(upload.Attempts - upload.Starts, 1, 20);
        var doubled = settings.PendingTimeout.Ticks * (1L << (untaken - 1));
        return TimeSpan.FromTicks(Math.Min(Math.Max(settings.PendingTimeout.Ticks, settings.MaxPendingTimeout.Ticks), doubled));
    }
}
