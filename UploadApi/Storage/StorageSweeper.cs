using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Model;
using Reference.UploadApi.Storage;

namespace Reference.UploadApi.Storage;

/// <summary>
/// Keeps the image folder from piling up: originals go once their upload is Ready past
/// <see cref="StorageOptions.KeepOriginals"/>, Failed past <see cref="StorageOptions.KeepFailedOriginals"/>
/// or Deleted; temporary files of killed requests and originals no row names go past
/// <see cref="StorageOptions.OrphanAge"/>; variants of Deleted uploads (a worker that finished after the
/// delete) go at once. It walks the folders rather than the table, so what is already gone costs nothing.
/// Every replica sweeps; removing a file twice is harmless.
/// </summary>
public sealed class StorageSweeper(
    IServiceScopeFactory scopes, IOptions<ImageStorage> storage, IOptions<StorageOptions> options,
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
        var folder = Path.Combine(storage.Value.Root, ImageStorage.OriginalsFolder);
        if (!Directory.Exists(folder))
        {
            return 0;
        }

        var settings = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        var removed = 0;
        var kept = new Dictionary<Guid, FileInfo>();
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles())
        {
            var isOld = file.LastWriteTimeUtc <= now - settings.OrphanAge;
            if (!Guid.TryParse(Path.GetFileNameWithoutExtension(file.Name), out var id) || file.Extension == ".tmp")
            {
                // A request killed while streaming its file, or a name UploadApi never makes.
                removed += isOld && Delete(file, "left over") ? 1 : 0;
                continue;
            }

            kept[id] = file;
            if (kept.Count == BatchSize)
            {
                removed += await SweepBatchAsync(db, kept, now, cancellationToken);
                kept.Clear();
            }
        }

        return removed + await SweepBatchAsync(db, kept, now, cancellationToken);
    }

    private async Task<int> SweepBatchAsync(UploadDbContext db, Dictionary<Guid, FileInfo> originals, DateTime now, CancellationToken cancellationToken)
    {
        var ids = originals.Keys.ToList();
        var rows = await db.Uploads.AsNoTracking().Where(u => ids.Contains(u.Id))
            .Select(u => new { u.Id, u.Status, u.UpdatedAt })
            .ToDictionaryAsync(u => u.Id, cancellationToken);
        var settings = options.Value;
        var removed = 0;
        foreach (var (id, file) in originals)
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
                : file.LastWriteTimeUtc <= now - settings.OrphanAge;
            removed += expired && Delete(file, row?.Status.ToString() ?? "no upload") ? 1 : 0;
        }

        return removed;
    }

    private async Task<int> SweepVariantsAsync(UploadDbContext db, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(storage.Value.Root, ImageStorage.VariantsFolder);
        if (!Directory.Exists(folder))
        {
            return 0;
        }

        var removed = 0;
        foreach (var batch in Directory.EnumerateDirectories(folder)
                     .Select(d => Guid.TryParse(Path.GetFileName(d), out var id) ? id : Guid.Empty)
                     .Where(id => id != Guid.Empty)
                     .Chunk(BatchSize))
        {
            var deleted = await db.Uploads.AsNoTracking()
                .Where(u => batch.Contains(u.Id) && u.Status == UploadStatus.Deleted)
                .Select(u => u.Id)
                .ToListAsync(cancellationToken);
            foreach (var id in deleted)
            {
                files.DeleteVariants(id);
                logger.LogInformation("Removed the variants of deleted upload {UploadId}.", id);
                removed++;
            }
        }

        return removed;
    }

    private bool Delete(FileInfo file, string why)
    {
        try
        {
            file.Delete();
            logger.LogInformation("Removed {File} from the originals ({Why}).", file.Name, why);
            return true;
        }
        catch (IOException e)
        {
            logger.LogWarning(e, "Could not remove {File} from the originals.", file.Name);
            return false;
        }
    }
}
