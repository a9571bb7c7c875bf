using MassTransit;
using Microsoft.EntityFrameworkCore;
using Reference.Contracts;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Shop;

/// <summary>
/// Publishes the order events recorded with their orders (<see cref="OrderEvent"/>): at once when a
/// request nudges it, and every few seconds for whatever is left (the broker was down, the replica
/// stopped). Each event is claimed first, so replicas do not send it twice; at least once all the same
/// (a reply lost after a publish), so consumers key on the order id.
/// </summary>
public sealed class OrderEventPublisher(
    IServiceScopeFactory scopes,
    IBus bus,
    TimeProvider clock,
    ILogger<OrderEventPublisher> logger) : BackgroundService
{
    private const int BatchSize = 50;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ClaimFor = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _nudged = new(0, 1);

    public void Nudge()
    {
        if (_nudged.CurrentCount == 0)
        {
            try
            {
                _nudged.Release();
            }
            catch (SemaphoreFullException)
            {
                // Nudged already.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _nudged.WaitAsync(Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                while (await PublishBatchAsync(stoppingToken) == BatchSize)
                {
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // MySQL or the broker away; the next round tries again.
                logger.LogWarning(e, "Publishing order events failed.");
            }
        }
    }

    private async Task<int> PublishBatchAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<InventoryDbContext>();
        var now = clock.GetUtcNow();
        var pending = await db.OrderEvents.AsNoTracking()
            .Where(e => e.PublishedAt == null && (e.ClaimedUntil == null || e.ClaimedUntil < now))
            .OrderBy(e => e.Id).Take(BatchSize).ToListAsync(stoppingToken);
        if (pending.Count == 0)
        {
            return 0;
        }

        var orderIds = pending.Select(e => e.OrderId).Distinct().ToList();
        var orders = await db.Orders.AsNoTracking().Include(o => o.Lines).Where(o => orderIds.Contains(o.Id))
            .AsSplitQuery().ToDictionaryAsync(o => o.Id, stoppingToken);
        foreach (var orderEvent in pending)
        {
            var claimed = await db.OrderEvents
                .Where(e => e.Id == orderEvent.Id && e.PublishedAt == null && (e.ClaimedUntil == null || e.ClaimedUntil < now))
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.ClaimedUntil, now + ClaimFor), stoppingToken);
            if (claimed == 0)
            {
                continue; // another replica has it
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(PublishTimeout);
            var order = orders[orderEvent.OrderId];
            await (orderEvent.Type switch
            {
                nameof(OrderPlaced) => bus.Publish(new OrderPlaced(order.Id, order.Number, order.CustomerEmail, order.Currency, order.Total,
                    order.Lines.Select(l => new OrderPlacedLine(l.ProductId, l.Sku, l.Quantity, l.UnitPrice)).ToList(), orderEvent.CreatedAt), timeout.Token),
                nameof(OrderPaid) => bus.Publish(new OrderPaid(order.Id, order.Number, orderEvent.CreatedAt), timeout.Token),
                nameof(OrderCancelled) => bus.Publish(new OrderCancelled(order.Id, order.Number, orderEvent.CreatedAt), timeout.Token),
                _ => Task.CompletedTask,
            });
            await db.OrderEvents.Where(e => e.Id == orderEvent.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.PublishedAt, clock.GetUtcNow()), stoppingToken);
        }

        return pending.Count;
    }
}
