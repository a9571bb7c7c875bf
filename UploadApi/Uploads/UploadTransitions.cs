using Microsoft.EntityFrameworkCore;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Model;
using Reference.UploadApi.Operations;
using Reference.UploadApi.StatusFeed;

namespace Reference.UploadApi.Uploads;

/// <summary>
/// The upload state machine, in one place. Pending → Processing → Ready | Failed; any → Deleted, which is final.
/// Failed is final too, except for a late result: its variants exist and the inventory attaches
/// every result, so the upload becomes Ready to agree with it. Every change is one conditional UPDATE whose WHERE names the states it
/// may leave, so redelivered or late messages and several replicas can never move an upload
/// backwards, and a repeated change affects no row. Each change a client can see is announced
/// on <see cref="UploadStatusFeed"/> for the event streams and status answers of every replica.
/// </summary>
public sealed class UploadTransitions(UploadDbContext db, UploadStatusFeed feed, UploadHistory history, TimeProvider clock)
{
    public async Task<bool> MarkProcessingAsync(Guid id, TimeSpan processingTimeout, CancellationToken cancellationToken)
    {
        var now = Now();
        var changed = await db.Uploads
            .Where(u => u.Id == id && u.Status == UploadStatus.Pending)
            .ExecuteUpdateAsync(set => set
                .SetProperty(u => u.Status, UploadStatus.Processing)
                .SetProperty(u => u.Starts, u => u.Starts + 1)
                .SetProperty(u => u.NextAttemptAt, now + processingTimeout)
                .SetProperty(u => u.UpdatedAt, now), cancellationToken) == 1;
        if (changed)
        {
            await feed.PublishAsync(id);
            return true;
        }

        // A redelivered job started again: not a change anyone watches, but the sweeper should
        // give this run its full time before it publishes again.
        await db.Uploads
            .Where(u => u.Id == id && u.Status == UploadStatus.Processing)
            .ExecuteUpdateAsync(set => set
                .SetProperty(u => u.Starts, u => u.Starts + 1)
                .SetProperty(u => u.NextAttemptAt, now + processingTimeout), cancellationToken);
        return false;
    }

    public async Task<bool> MarkReadyAsync(Guid id, List<UploadVariant> variants, CancellationToken cancellationToken)
    {
        var now = Now();
        var changed = await db.Uploads
            .Where(u => u.Id == id && u.Status != UploadStatus.Ready && u.Status != UploadStatus.Deleted)
            .ExecuteUpdateAsync(set => set
                .SetProperty(u => u.Status, UploadStatus.Ready)
                .SetProperty(u => u.Variants, variants)
                .SetProperty(u => u.Reason, (string?)null)
                .SetProperty(u => u.UpdatedAt, now), cancellationToken) == 1;
        return await AnnounceIf(changed, id, "ready");
    }

    public async Task<bool> MarkFailedAsync(Guid id, string reason, CancellationToken cancellationToken)
    {
        var now = Now();
        reason = Truncate(FailureReason.WithoutPaths(reason));
        var changed = await db.Uploads
            .Where(u => u.Id == id && (u.Status == UploadStatus.Pending || u.Status == UploadStatus.Processing))
            .ExecuteUpdateAsync(set => set
                .SetProperty(u => u.Status, UploadStatus.Failed)
                .SetProperty(u => u.Reason, reason)
                .SetProperty(u => u.UpdatedAt, now), cancellationToken) == 1;
        return await AnnounceIf(changed, id, "failed", reason);
    }

    /// <summary>The image was taken off its product: no late result may bring it back, and its variants are listed no more.</summary>
    public async Task<bool> MarkDeletedAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = Now();
        var changed = await db.Uploads
            .Where(u => u.Id == id && u.Status != UploadStatus.Deleted)
            .ExecuteUpdateAsync(set => set
                .SetProperty(u => u.Status, UploadStatus.Deleted)
                .SetProperty(u => u.Variants, new List<UploadVariant>())
                .SetProperty(u => u.UpdatedAt, now), cancellationToken) == 1;
        return await AnnounceIf(changed, id);
    }

    /// <summary>
    /// Claims a stuck upload for one more publish: only the replica whose UPDATE matches the
    /// row as it read it (same status, attempt due, attempts as seen) gets a row back.
    /// </summary>
    /// <returns>The attempt number to publish, or null when another replica (or a worker) got there first.</returns>
    public async Task<int?> ClaimRepublishAsync(Upload stuck, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        var now = Now();
        var claimed = await db.Uploads
            .Where(u => u.Id == stuck.Id && u.Status == stuck.Status && u.Attempts == stuck.Attempts && u.NextAttemptAt <= now)
            .ExecuteUpdateAsync(set => set
                .SetProperty(u => u.Attempts, u => u.Attempts + 1)
                .SetProperty(u => u.NextAttemptAt, now + retryAfter), cancellationToken) == 1;
        await AnnounceIf(claimed, stuck.Id, "republished", $"attempt {stuck.Attempts + 1} by the sweeper (was {stuck.Status})");

        return claimed ? stuck.Attempts + 1 : null;
    }

    /// <summary>
    /// The publish after a claim (or at upload time) did not reach the broker: the attempt
    /// never reached a worker, so it does not count towards the cap. The sweeper tries again
    /// once <paramref name="retryAfter"/> has passed.
    /// </summary>
    public async Task GiveBackAttemptAsync(Guid id, int attempt, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        var next = Now() + retryAfter;
        var changed = await db.Uploads
            .Where(u => u.Id == id && u.Attempts == attempt && (u.Status == UploadStatus.Pending || u.Status == UploadStatus.Processing))
            .ExecuteUpdateAsync(set => set
                .SetProperty(u => u.Attempts, attempt - 1)
                .SetProperty(u => u.NextAttemptAt, next), cancellationToken) == 1;
        await AnnounceIf(changed, id);
    }

    /// <summary>Fails an upload that workers started <paramref name="maxAttempts"/> times and is still stuck.</summary>
    public async Task<bool> FailStuckAsync(Upload stuck, int maxAttempts, CancellationToken cancellationToken)
    {
        var now = Now();
        var reason = $"No worker finished the image after {stuck.Starts} starts (last state {stuck.Status}).";
        var changed = await db.Uploads
            .Where(u => u.Id == stuck.Id && u.Status == stuck.Status && u.Starts >= maxAttempts && u.NextAttemptAt <= now)
            .ExecuteUpdateAsync(set => set
                .SetProperty(u => u.Status, UploadStatus.Failed)
                .SetProperty(u => u.Reason, reason)
                .SetProperty(u => u.UpdatedAt, now), cancellationToken) == 1;
        return await AnnounceIf(changed, stuck.Id, "failed", reason);
    }

    /// <summary>
    /// An operator's retry of a Failed upload: Pending again with a fresh count of starts, so the sweeper and
    /// the poison guard give it their full allowance; the caller publishes the returned attempt.
    /// </summary>
    /// <returns>The attempt number to publish, or null when the upload is not Failed (any more).</returns>
    public async Task<int?> RequeueFailedAsync(Upload failed, TimeSpan pendingTimeout, CancellationToken cancellationToken)
    {
        var now = Now();
        var changed = await db.Uploads
            .Where(u => u.Id == failed.Id && u.Status == UploadStatus.Failed && u.Attempts == failed.Attempts)
            .ExecuteUpdateAsync(set => set
                .SetProperty(u => u.Status, UploadStatus.Pending)
                .SetProperty(u => u.Reason, (string?)null)
                .SetProperty(u => u.Starts, 0)
                .SetProperty(u => u.Attempts, u => u.Attempts + 1)
                .SetProperty(u => u.NextAttemptAt, now + pendingTimeout)
                .SetProperty(u => u.UpdatedAt, now), cancellationToken) == 1;
        await AnnounceIf(changed, failed.Id, "retried", $"by an operator (was Failed: {failed.Reason})");
        return changed ? failed.Attempts + 1 : null;
    }

    private async Task<bool> AnnounceIf(bool changed, Guid id, string? @event = null, string? detail = null)
    {
        if (changed)
        {
            if (@event is not null)
            {
                history.Record(id, @event, detail);
            }

            await feed.PublishAsync(id);
        }

        return changed;
    }

    private DateTimeOffset Now() => clock.GetUtcNow();

    private static string Truncate(string reason) => reason.Length <= 1000 ? reason : reason[..997] + "...";
}
