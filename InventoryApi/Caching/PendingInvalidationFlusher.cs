namespace Reference.InventoryApi.Caching;

/// <summary>Sends the cache invalidations that failed while Redis was unreachable, once it answers again.</summary>
internal sealed class PendingInvalidationFlusher(ProductCache cache) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await cache.FlushPendingInvalidationsAsync();
        }
    }
}
