using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Reference.InventoryApi.Caching;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Model;
using Reference.InventoryApi.Reservations;

namespace Reference.InventoryApi.Shop;

/// <summary>
/// Every change of an order, each a conditional UPDATE in one transaction with the stock it moves
/// and the event it owes the bus (<see cref="OrderEvent"/>), like <see cref="StockReservations"/>.
/// </summary>
public sealed class ShopOrders(
    InventoryDbContext db,
    StockReservations reservations,
    ProductCache cache,
    OrderEventPublisher events,
    TimeProvider clock)
{
    /// <summary>
    /// Commits the cart's hold as an order awaiting payment. The same idempotency key from the same
    /// cart gives the same order, however often it is sent and whatever the timing.
    /// </summary>
    public async Task<PlaceOutcome> PlaceAsync(
        string cartId, string clientAddress, string idempotencyKey, string customerName, string customerEmail, CancellationToken cancellationToken)
    {
        // Chosen outside the retried block: a retry after a lost commit reply finds this order, its own.
        var orderId = Guid.CreateVersion7();
        var outcome = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            if (await FindByKeyAsync(cartId, idempotencyKey, ct) is { } existing)
            {
                return new PlaceOutcome(existing.Id == orderId ? PlaceResult.Placed : PlaceResult.AlreadyPlaced, existing);
            }

            var now = clock.GetUtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var hold = await db.Reservations.AsNoTracking()
                .Where(r => r.CartId == cartId && r.Status == ReservationStatus.Pending)
                .OrderByDescending(r => r.CreatedAt).Select(r => new { r.Id, r.ExpiresAt }).FirstOrDefaultAsync(ct);
            var lines = hold is null ? null : await reservations.MoveAsync(hold.Id, ReservationStatus.Committed, now, ct);
            if (hold is null || lines is null)
            {
                await transaction.RollbackAsync(ct);
                // A second click with the same key may have won the hold a moment ago.
                if (await FindByKeyAsync(cartId, idempotencyKey, ct) is { } won)
                {
                    return new PlaceOutcome(PlaceResult.AlreadyPlaced, won);
                }

                return new PlaceOutcome(hold is not null && hold.ExpiresAt <= now ? PlaceResult.HoldExpired : PlaceResult.NoHold, null);
            }

            var ids = lines.Select(l => l.ProductId).ToList();
            // The hold kept these products from being deleted (a product with reserved units cannot be).
            var products = await db.Products.AsNoTracking().Where(p => ids.Contains(p.Id))
                .Select(p => new { p.Id, p.Sku, p.Name, p.Price, p.Currency }).ToDictionaryAsync(p => p.Id, ct);
            if (products.Values.Select(p => p.Currency).Distinct().Count() > 1)
            {
                await transaction.RollbackAsync(ct);
                return new PlaceOutcome(PlaceResult.MixedCurrencies, null);
            }

            var order = new Order
            {
                Id = orderId,
                Number = NewNumber(),
                Status = OrderStatus.AwaitingPayment,
                CartId = cartId,
                IdempotencyKey = idempotencyKey,
                ReservationId = hold.Id,
                ClientAddress = clientAddress,
                CustomerName = customerName,
                CustomerEmail = customerEmail,
                Currency = products.Values.First().Currency,
                Lines = lines.Select(l => new OrderLine
                {
                    ProductId = l.ProductId,
                    Sku = products[l.ProductId].Sku,
                    Name = products[l.ProductId].Name,
                    UnitPrice = products[l.ProductId].Price,
                    Quantity = l.Quantity,
                }).ToList(),
                CreatedAt = now,
                UpdatedAt = now,
            };
            order.Total = order.Lines.Sum(l => l.UnitPrice * l.Quantity);
            db.Orders.Add(order);
            db.OrderEvents.Add(new OrderEvent { OrderId = order.Id, Type = nameof(Contracts.OrderPlaced), CreatedAt = now });
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return new PlaceOutcome(PlaceResult.Placed, order);
        }, cancellationToken);

        if (outcome.Result == PlaceResult.Placed)
        {
            await cache.InvalidateAsync(outcome.Order!.Lines.Select(l => l.ProductId), lists: false);
            events.Nudge();
        }

        return outcome;
    }

    /// <summary>AwaitingPayment → Paid; where a payment provider's confirmation would land. Twice is a no-op.</summary>
    public Task<OrderTransition> MarkPaidAsync(Guid id, CancellationToken cancellationToken) =>
        TransitionAsync(id, OrderStatus.Paid, cancellationToken);

    /// <summary>AwaitingPayment or Paid → Cancelled: the units go back on-hand, exactly once.</summary>
    public Task<OrderTransition> CancelAsync(Guid id, CancellationToken cancellationToken) =>
        TransitionAsync(id, OrderStatus.Cancelled, cancellationToken);

    public Task<Order?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        db.Orders.AsNoTracking().Include(o => o.Lines).FirstOrDefaultAsync(o => o.Id == id, cancellationToken);

    public Task<List<Order>> ForCartAsync(string cartId, int limit, CancellationToken cancellationToken) =>
        db.Orders.AsNoTracking().Include(o => o.Lines).Where(o => o.CartId == cartId)
            .OrderByDescending(o => o.CreatedAt).Take(limit).AsSplitQuery().ToListAsync(cancellationToken);

    public async Task<(List<Order> Items, int Total)> ListAsync(OrderStatus? status, int page, int pageSize, CancellationToken cancellationToken)
    {
        var query = db.Orders.AsNoTracking();
        if (status is not null)
        {
            query = query.Where(o => o.Status == status);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(o => o.CreatedAt).ThenBy(o => o.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).Include(o => o.Lines).AsSplitQuery().ToListAsync(cancellationToken);
        return (items, total);
    }

    private async Task<OrderTransition> TransitionAsync(Guid id, OrderStatus to, CancellationToken cancellationToken)
    {
        var returned = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            var now = clock.GetUtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // The status check and the change are one UPDATE: of two concurrent cancels only one
            // moves the order, so only one gives its units back.
            var from = to == OrderStatus.Paid ? [OrderStatus.AwaitingPayment] : new[] { OrderStatus.AwaitingPayment, OrderStatus.Paid };
            var moved = await db.Orders.Where(o => o.Id == id && from.Contains(o.Status))
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, to).SetProperty(o => o.UpdatedAt, now), ct);
            if (moved == 0)
            {
                return null;
            }

            var lines = await db.OrderLines.AsNoTracking().Where(l => l.OrderId == id).OrderBy(l => l.ProductId).ToListAsync(ct);
            if (to == OrderStatus.Cancelled)
            {
                foreach (var line in lines)
                {
                    var quantity = line.Quantity;
                    // A product deleted since matches nothing: there is no shelf to return the units to.
                    await db.Products.Where(p => p.Id == line.ProductId)
                        .ExecuteUpdateAsync(s => s.SetProperty(p => p.OnHand, p => p.OnHand + quantity).SetProperty(p => p.UpdatedAt, now), ct);
                }
            }

            db.OrderEvents.Add(new OrderEvent
            {
                OrderId = id,
                Type = to == OrderStatus.Paid ? nameof(Contracts.OrderPaid) : nameof(Contracts.OrderCancelled),
                CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return lines;
        }, cancellationToken);

        if (returned is not null)
        {
            if (to == OrderStatus.Cancelled)
            {
                await cache.InvalidateAsync(returned.Select(l => l.ProductId), lists: false);
            }

            events.Nudge();
        }

        return new OrderTransition(await FindAsync(id, cancellationToken), returned is not null);
    }

    private Task<Order?> FindByKeyAsync(string cartId, string idempotencyKey, CancellationToken ct) =>
        db.Orders.AsNoTracking().Include(o => o.Lines)
            .FirstOrDefaultAsync(o => o.CartId == cartId && o.IdempotencyKey == idempotencyKey, ct);

    // Ten hex digits: short enough to read out on the phone, and the unique index catches the one-in-a-trillion clash.
    private static string NewNumber() => "R-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(5));
}

public enum PlaceResult
{
    Placed,
    AlreadyPlaced,
    NoHold,
    HoldExpired,
    MixedCurrencies,
}

public sealed record PlaceOutcome(PlaceResult Result, Order? Order);

/// <param name="Order">Its state after the call; null when there is no such order.</param>
/// <param name="Changed">This call moved it.</param>
public sealed record OrderTransition(Order? Order, bool Changed);
