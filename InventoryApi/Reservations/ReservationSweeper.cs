using Microsoft.Extensions.Options;

namespace Reference.InventoryApi.Reservations;

/// <summary>
/// Expires Pending reservations past their expiry, giving their stock back. Every replica sweeps;
/// <see cref="StockReservations.ExpireAsync"/> lets only one of them move each reservation.
/// </summary>
internal sealed class ReservationSweeper(
    IServiceScopeFactory scopes,
    IOptions<InventoryOptions> options,
    ILogger<ReservationSweeper> logger) : BackgroundService
{
    private const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReservationSweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // MySQL down, most likely; the next tick tries again.
                logger.LogWarning(e, "Reservation sweep failed.");
            }
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var reservations = scope.ServiceProvider.GetRequiredService<StockReservations>();
        var expired = 0;
        foreach (var id in await reservations.FindExpiredAsync(BatchSize, cancellationToken))
        {
            if (await reservations.ExpireAsync(id, cancellationToken))
            {
                expired++;
            }
        }

        if (expired > 0)
        {
            logger.LogInformation("Expired {Count} reservations.", expired);
        }
    }
}
