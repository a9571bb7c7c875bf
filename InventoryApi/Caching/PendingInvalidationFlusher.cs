namespace Reference.InventoryApi.Caching;

/// <summary>Sends the cache invalidations that failed while Redis was unreachable, once it answers again.</summary>
internal sealed class PendingInvalidationFlusher(ProductCache cache, ILogger<PendingInvalidationFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // A failure here must never end the service (a background exception stops the host): try again next tick.
            try
            {
                await cache.FlushPendingInvalidationsAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Sending deferred cache invalidations failed; trying again");
            }
        }
    }
}
