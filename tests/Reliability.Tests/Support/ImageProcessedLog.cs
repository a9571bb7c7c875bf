using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace Reference.Reliability.Tests.Support;

/// <summary>
/// What InventoryApi's replicas did with each ImageProcessed they were handed, read from their own
/// log lines: applied (the image attached) or ignored as a repeated delivery. The database's unique
/// index alone would hide a second application; these counts show every delivery.
/// </summary>
public sealed partial class ImageProcessedLog : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, int> _applied = new();
    private readonly ConcurrentDictionary<Guid, int> _repeated = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _watches;

    public ImageProcessedLog(DistributedApplication app, IEnumerable<string> inventoryReplicas)
    {
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        // By resource, not by name: a project's log stream is kept under its instance's name.
        _watches = model.Resources.Where(r => inventoryReplicas.Contains(r.Name))
            .Select(replica => Task.Run(() => WatchAsync(logs, replica))).ToList();
    }

    public int Applied(Guid uploadId) => _applied.GetValueOrDefault(uploadId);

    public int RepeatedDeliveries(IEnumerable<Guid> uploads) => uploads.Sum(id => _repeated.GetValueOrDefault(id));

    private async Task WatchAsync(ResourceLoggerService logs, IResource replica)
    {
        try
        {
            await foreach (var batch in logs.WatchAsync(replica).WithCancellation(_stop.Token))
            {
                foreach (var line in batch)
                {
                    if (AppliedLine().Match(line.Content) is { Success: true } applied)
                    {
                        _applied.AddOrUpdate(Guid.Parse(applied.Groups[1].Value), 1, (_, n) => n + 1);
                    }
                    else if (RepeatedLine().Match(line.Content) is { Success: true } repeated)
                    {
                        _repeated.AddOrUpdate(Guid.Parse(repeated.Groups[1].Value), 1, (_, n) => n + 1);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_watches);
        _stop.Dispose();
    }

    // The texts of ImageProcessedConsumer's two log messages.
    [GeneratedRegex(@"Attached upload ([0-9a-f-]{36}) to product")]
    private static partial Regex AppliedLine();

    [GeneratedRegex(@"Upload ([0-9a-f-]{36}) is already on product [0-9a-f-]{36}: a repeated delivery")]
    private static partial Regex RepeatedLine();
}
