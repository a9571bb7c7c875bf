using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.Storage;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Model;

namespace Reference.UploadApi.Storage;

/// <summary>
/// Keeps the image store from piling up: originals go once their upload is Ready past
/// <see cref="StorageOptions.KeepOriginals"/>, Failed past <see cref="StorageOptions.KeepFailedOriginals"/>
/// or Deleted; temporary files of killed requests and originals no row names go past
/// <see cref="StorageOptions.OrphanAge"/>; variants of Deleted uploads (a worker that finished after the
/// delete) go at once. It lists the store rather than the table, so what is already gone costs nothing.
/// Every replica sweeps; removing a file twice is harmless.
/// </summary>
public sealed class StorageSweeper(
    IServiceScopeFactory scopes, IImageStore store, IOptions<StorageOptions> options,
    UploadFiles files, TimeProvider clock, ILogger<StorageSweeper> logger) : BackgroundService
{
    private const int BatchSize = 500;

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
                logger.LogWarning(e, "Sweeping the image storage failed; trying again next round");
            }

            await Task.Delay(options.Value.SweepInterval, clock, stoppingToken);
        }
    }

    /// <returns>How many files and variant folders this pass removed.</returns>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<UploadDbContext>();
        return await SweepOriginalsAsync(db, cancellationToken) + await SweepVariantsAsync(db, cancellationToken);
    }

    private async Task<int> SweepOriginalsAsync(UploadDbContext db, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        var removed = SweepStaging(now - settings.OrphanAge);
        var kept = new Dictionary<Guid, StoredKey>();
        await foreach (var stored in store.ListAsync(ImageStorage.OriginalsFolder, cancellationToken: cancellationToken))
        {
            var name = stored.Key[(ImageStorage.OriginalsFolder.Length + 1)..];
            if (name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                continue; // the staging folder's, swept above
            }

            if (!Guid.TryParse(Path.GetFileNameWithoutExtension(name), out var id))
            {
                // A name UploadApi never makes.
                removed += stored.LastModified.UtcDateTime <= now - settings.OrphanAge && await DeleteAsync(stored.Key, "left over") ? 1 : 0;
                continue;
            }

            kept[id] = stored;
            if (kept.Count == BatchSize)
            {
                removed += await SweepBatchAsync(db, kept, now, cancellationToken);
                kept.Clear();
            }
        }

        return removed + await SweepBatchAsync(db, kept, now, cancellationToken);
    }

    /// <summary>Temporary files of requests killed while streaming their upload (the staging folder is always local).</summary>
    private int SweepStaging(DateTime olderThan)
    {
        var staging = new DirectoryInfo(store.StagingFolder);
        if (!staging.Exists)
        {
            return 0;
        }

        var removed = 0;
        foreach (var file in staging.EnumerateFiles("*.tmp"))
        {
            if (file.LastWriteTimeUtc > olderThan)
            {
                continue;
            }

            try
            {
                file.Delete();
                logger.LogInformation("Removed {File} from the staging folder (left over).", file.Name);
                removed++;
            }
            catch (IOException e)
            {
                logger.LogWarning(e, "Could not remove {File} from the staging folder.", file.Name);
            }
        }

        return removed;
    }

    private async Task<int> SweepBatchAsync(UploadDbContext db, Dictionary<Guid, StoredKey> originals, DateTime now, CancellationToken cancellationToken)
    {
        var ids = originals.Keys.ToList();
        var rows = await db.Uploads.AsNoTracking().Where(u => ids.Contains(u.Id))
            .Select(u => new { u.Id, u.Status, u.UpdatedAt })
            .ToDictionaryAsync(u => u.Id, cancellationToken);
        var settings = options.Value;
        var removed = 0;
        foreach (var (id, stored) in originals)
        {
            var expired = rows.TryGetValue(id, out var row)
                ? row.Status switch
                {
                    UploadStatus.Ready => row.UpdatedAt <= now - settings.KeepOriginals,
                    UploadStatus.Failed => row.UpdatedAt <= now - settings.KeepFailedOriginals,
                    UploadStatus.Deleted => true,
                    _ => false,
                }
                // Stored, but the row that would have named it was never committed.
                : stored.LastModified.UtcDateTime <= now - settings.OrphanAge;
            removed += expired && await DeleteAsync(stored.Key, row?.Status.ToString() ?? "no upload") ? 1 : 0;
        }

        return removed;
    }

    private async Task<int> SweepVariantsAsync(UploadDbContext db, CancellationToken cancellationToken)
    {
        var ids = new HashSet<Guid>();
        await foreach (var stored in store.ListAsync(ImageStorage.VariantsFolder, cancellationToken: cancellationToken))
        {
            // variants/{uploadId}/{name}
            var parts = stored.Key.Split('/');
            if (parts.Length > 2 && Guid.TryParse(parts[1], out var id))
            {
                ids.Add(id);
            }
        }

        var removed = 0;
        foreach (var batch in ids.Chunk(BatchSize))
        {
            var deleted = await db.Uploads.AsNoTracking()
                .Where(u => batch.Contains(u.Id) && u.Status == UploadStatus.Deleted)
                .Select(u => u.Id)
                .ToListAsync(cancellationToken);
            foreach (var id in deleted)
            {
                await files.DeleteVariantsAsync(id, cancellationToken);
                logger.LogInformation("Removed the variants of deleted upload {UploadId}.", id);
                removed++;
            }
        }

        return removed;
    }

    private async Task<bool> DeleteAsync(string key, string why)
    {
        try
        {
            await store.DeleteAsync(key);
            logger.LogInformation("Removed {Key} from the originals ({Why}).", key, why);
            return true;
        }
        catch (StorageUnavailableException e)
        {
            logger.LogWarning(e, "Could not remove {Key} from the originals.", key);
            return false;
        }
    }
}
