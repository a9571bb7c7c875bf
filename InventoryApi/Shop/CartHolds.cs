using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Reference.InventoryApi.Caching;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Model;
using Reference.InventoryApi.Reservations;

namespace Reference.InventoryApi.Shop;

/// <summary>
/// A shopper's stock hold at checkout: a reservation owned by a cart and a client address, capped
/// per product and in number for both, replacing the cart's previous hold in the same transaction.
/// </summary>
public sealed class CartHolds(
    InventoryDbContext db,
    StockReservations reservations,
    ProductCache cache,
    TimeProvider clock,
    IOptions<ShopOptions> options)
{
    private const int LockWaitSeconds = 10;

    public async Task<CartHoldOutcome> HoldAsync(
        string cartId, string clientAddress, IEnumerable<(Guid ProductId, int Quantity)> requested, CancellationToken cancellationToken)
    {
        var lines = StockReservations.InIdOrder(requested);
        var max = options.Value.MaxUnitsPerProduct;
        if (lines.Exists(l => l.Quantity > max))
        {
            var tooMany = lines.First(l => l.Quantity > max);
            return CartHoldOutcome.Refused(UnitsRefusal(tooMany.ProductId, tooMany.Quantity, 0));
        }

        // Chosen outside the retried block, as in StockReservations: a retry after a lost commit reply finds it.
        var id = Guid.CreateVersion7();
        var touched = new List<Guid>();
        var outcome = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            touched.Clear();
            if (await reservations.FindAsync(id, ct) is { } alreadyMade)
            {
                return CartHoldOutcome.Held(alreadyMade);
            }

            // The caps count this cart's and this address's holds, then add one: two holds from the same
            // shopper at once must not both count before either is saved. Server-side named locks
            // (cart first, then address, so two sessions never wait on each other in a circle)
            // serialize them, and only them; other shoppers never wait.
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                var connection = db.Database.GetDbConnection();
                if (!await LockAsync(connection, "shop:cart:" + cartId, ct) || !await LockAsync(connection, "shop:addr:" + clientAddress, ct))
                {
                    return CartHoldOutcome.Refused(new HoldRefusal(StatusCodes.Status429TooManyRequests, "busy",
                        "Checkout busy", "Another checkout from this cart or address is still running; try again.", TimeSpan.FromSeconds(1)));
                }

                var now = clock.GetUtcNow();
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                var previous = await db.Reservations.AsNoTracking()
                    .Where(r => r.CartId == cartId && r.Status == ReservationStatus.Pending).Select(r => r.Id).ToListAsync(ct);
                foreach (var old in previous)
                {
                    touched.AddRange((await reservations.MoveAsync(old, ReservationStatus.Released, now, ct))?.Select(l => l.ProductId) ?? []);
                }

                if (await CheckCapsAsync(cartId, clientAddress, lines, now, ct) is { } refusal)
                {
                    await transaction.RollbackAsync(ct);
                    touched.Clear();
                    return CartHoldOutcome.Refused(refusal);
                }

                var shortLines = await reservations.HoldAsync(lines, now, ct);
                if (shortLines.Count > 0)
                {
                    await transaction.RollbackAsync(ct);
                    touched.Clear();
                    return CartHoldOutcome.Short(await reservations.DescribeShortAsync(shortLines, ct));
                }

                var reservation = reservations.NewPending(id, lines, now);
                reservation.CartId = cartId;
                reservation.ClientAddress = clientAddress;
                db.Reservations.Add(reservation);
                await db.SaveChangesAsync(ct);
                await transaction.CommitAsync(ct);
                touched.AddRange(lines.Select(l => l.ProductId));
                return CartHoldOutcome.Held(reservation);
            }
            finally
            {
                await using (var release = db.Database.GetDbConnection().CreateCommand())
                {
                    release.CommandText = "SELECT RELEASE_ALL_LOCKS()";
                    await release.ExecuteScalarAsync(CancellationToken.None);
                }

                await db.Database.CloseConnectionAsync();
            }
        }, cancellationToken);

        if (touched.Count > 0)
        {
            await cache.InvalidateAsync(touched, lists: false);
        }

        return outcome;
    }

    public Task<Reservation?> FindPendingAsync(string cartId, CancellationToken cancellationToken) =>
        db.Reservations.AsNoTracking().Include(r => r.Lines)
            .Where(r => r.CartId == cartId && r.Status == ReservationStatus.Pending)
            .OrderByDescending(r => r.CreatedAt).FirstOrDefaultAsync(cancellationToken);

    /// <summary>Gives the cart's hold back (the shopper left checkout); true when there was one.</summary>
    public async Task<bool> ReleaseAsync(string cartId, CancellationToken cancellationToken)
    {
        var released = false;
        foreach (var id in await db.Reservations.AsNoTracking()
                     .Where(r => r.CartId == cartId && r.Status == ReservationStatus.Pending).Select(r => r.Id).ToListAsync(cancellationToken))
        {
            released |= (await reservations.ReleaseAsync(id, cancellationToken)).Changed;
        }

        return released;
    }

    private async Task<HoldRefusal?> CheckCapsAsync(
        string cartId, string clientAddress, List<(Guid ProductId, int Quantity)> lines, DateTimeOffset now, CancellationToken ct)
    {
        var owned = db.Reservations.Where(r => r.Status == ReservationStatus.Pending && r.ExpiresAt > now
            && (r.CartId == cartId || r.ClientAddress == clientAddress));
        var holds = await owned.CountAsync(ct);
        if (holds >= options.Value.MaxActiveHolds)
        {
            var firstExpiry = await owned.MinAsync(r => r.ExpiresAt, ct);
            return new HoldRefusal(StatusCodes.Status429TooManyRequests, "active-holds", "Too many checkouts at once",
                $"This address already holds stock for {holds} checkouts (at most {options.Value.MaxActiveHolds}). " +
                "Finish or leave one of them, or wait until one expires.", firstExpiry - now);
        }

        // Unpaid orders count too: without a payment step, ordering is the other way to keep stock from others.
        var ids = lines.Select(l => l.ProductId).ToList();
        var held = await db.ReservationLines
            .Where(l => ids.Contains(l.ProductId) && owned.Any(r => r.Id == l.ReservationId))
            .GroupBy(l => l.ProductId).Select(g => new { ProductId = g.Key, Units = g.Sum(l => l.Quantity) })
            .ToDictionaryAsync(x => x.ProductId, x => x.Units, ct);
        var ordered = await db.OrderLines
            .Where(l => ids.Contains(l.ProductId) && db.Orders.Any(o => o.Id == l.OrderId && o.Status == OrderStatus.AwaitingPayment
                && (o.CartId == cartId || o.ClientAddress == clientAddress)))
            .GroupBy(l => l.ProductId).Select(g => new { ProductId = g.Key, Units = g.Sum(l => l.Quantity) })
            .ToDictionaryAsync(x => x.ProductId, x => x.Units, ct);
        foreach (var (productId, quantity) in lines)
        {
            var already = held.GetValueOrDefault(productId) + ordered.GetValueOrDefault(productId);
            if (already + quantity > options.Value.MaxUnitsPerProduct)
            {
                return UnitsRefusal(productId, quantity, already);
            }
        }

        return null;
    }

    private HoldRefusal UnitsRefusal(Guid productId, int requested, int already) =>
        new(StatusCodes.Status409Conflict, "units-per-product", "Too many of one product",
            $"At most {options.Value.MaxUnitsPerProduct} units of one product per shopper: product {productId} asked for {requested}" +
            (already > 0 ? $", and this cart or address already holds or has unpaid orders for {already}." : "."));

    private static async Task<bool> LockAsync(DbConnection connection, string name, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT GET_LOCK(@name, {LockWaitSeconds})";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@name";
        // Lock names are at most 64 characters; an IPv6 address with its prefix fits.
        parameter.Value = name.Length > 64 ? name[..64] : name;
        command.Parameters.Add(parameter);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct) ?? 0L) == 1;
    }
}

public sealed record CartHoldOutcome(Reservation? Reservation, IReadOnlyList<ShortLine> ShortLines, HoldRefusal? Refusal)
{
    public static CartHoldOutcome Held(Reservation reservation) => new(reservation, [], null);

    public static CartHoldOutcome Short(IReadOnlyList<ShortLine> lines) => new(null, lines, null);

    public static CartHoldOutcome Refused(HoldRefusal refusal) => new(null, [], refusal);
}

/// <summary>A hold refused by a cap before any stock was held; <paramref name="Reason"/> is for code, the rest for people.</summary>
public sealed record HoldRefusal(int StatusCode, string Reason, string Title, string Detail, TimeSpan? RetryAfter = null);
