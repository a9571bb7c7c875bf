using Microsoft.EntityFrameworkCore;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Model;

namespace Reference.UploadApi.Operations;

/// <summary>The uploads as an operator looks at them: counts by state, the latest ones with their timings, and the recent throughput.</summary>
public sealed class UploadsOverview(UploadDbContext db, UploadHistory history, TimeProvider clock)
{
    private static readonly TimeSpan ChartSpan = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan ChartBucket = TimeSpan.FromSeconds(20);

    public async Task<Dictionary<string, int>> CountsAsync(CancellationToken cancellationToken)
    {
        var counts = await db.Uploads.AsNoTracking().GroupBy(u => u.Status)
            .Select(g => new { Status = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return Enum.GetValues<UploadStatus>().ToDictionary(s => s.ToString(), s => counts.FirstOrDefault(c => c.Status == s)?.Count ?? 0);
    }

    public async Task<IReadOnlyList<UploadSummary>> LatestAsync(UploadStatus? state, int limit, CancellationToken cancellationToken)
    {
        var query = db.Uploads.AsNoTracking();
        if (state is { } wanted)
        {
            query = query.Where(u => u.Status == wanted);
        }

        var uploads = await query.OrderByDescending(u => u.UpdatedAt).Take(limit).ToListAsync(cancellationToken);
        var starts = await history.LastStartsAsync(uploads.Select(u => u.Id).ToList());
        var now = clock.GetUtcNow();
        return uploads.Select(u => UploadSummary.From(u, starts.TryGetValue(u.Id, out var started) ? started : null, now)).ToList();
    }

    /// <summary>Uploads that became Ready per <see cref="ChartBucket"/> over the last <see cref="ChartSpan"/>, with their median upload→Ready time.</summary>
    public async Task<IReadOnlyList<ThroughputPoint>> ThroughputAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var since = now - ChartSpan;
        var ready = await db.Uploads.AsNoTracking()
            .Where(u => u.Status == UploadStatus.Ready && u.UpdatedAt >= since)
            .OrderByDescending(u => u.UpdatedAt)
            .Select(u => new { u.CreatedAt, u.UpdatedAt })
            .Take(10_000)
            .ToListAsync(cancellationToken);
        var buckets = (int)(ChartSpan / ChartBucket);
        return Enumerable.Range(0, buckets).Select(i =>
        {
            var start = since + i * ChartBucket;
            var latencies = ready.Where(u => u.UpdatedAt >= start && u.UpdatedAt < start + ChartBucket)
                .Select(u => (u.UpdatedAt - u.CreatedAt).TotalSeconds)
                .Order()
                .ToList();
            return new ThroughputPoint(
                new DateTimeOffset(start, TimeSpan.Zero),
                Math.Round(latencies.Count / ChartBucket.TotalMinutes, 1),
                latencies.Count == 0 ? null : Math.Round(latencies[latencies.Count / 2], 2));
        }).ToList();
    }
}

/// <param name="QueuedSeconds">From acceptance to a worker's last start.</param>
/// <param name="ProcessingSeconds">From that start to the result (or until now).</param>
/// <param name="TotalSeconds">From acceptance to the result (or until now).</param>
public sealed record UploadSummary(
    Guid Id, Guid? ProductId, string Status, string? Reason, int Attempts, int Starts, int Width, int Height,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, double? QueuedSeconds, double? ProcessingSeconds, double TotalSeconds)
{
    public static UploadSummary From(Upload upload, DateTimeOffset? started, DateTimeOffset now)
    {
        var created = upload.CreatedAt;
        var finished = upload.Status is UploadStatus.Ready or UploadStatus.Failed or UploadStatus.Deleted ? upload.UpdatedAt : now;
        return new UploadSummary(upload.Id, upload.ProductId, upload.Status.ToString(), upload.Reason, upload.Attempts, upload.Starts,
            upload.Width, upload.Height, upload.CreatedAt, upload.UpdatedAt,
            started is { } s ? Seconds(s - created) : null,
            started is { } t ? Seconds(finished - t) : null,
            Seconds(finished - created));
    }

    private static double Seconds(TimeSpan span) => Math.Round(Math.Max(0, span.TotalSeconds), 2);
}

/// <param name="ReadyPerMinute">Uploads that became Ready in the bucket, as a rate per minute.</param>
/// <param name="MedianLatencySeconds">Upload→Ready of those, the median.</param>
public sealed record ThroughputPoint(DateTimeOffset At, double ReadyPerMinute, double? MedianLatencySeconds);
