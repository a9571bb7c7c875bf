using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Reference.InventoryApi.Caching;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Reservations;

/// <summary>
/// Every change of reserved stock. Nothing here reads stock and then writes it: each change is one
/// conditional UPDATE (<c>WHERE OnHand - Reserved &gt;= quantity</c>, <c>WHERE Status = 'Pending'</c>),
/// so concurrent requests on any number of replicas can neither oversell nor apply a transition twice.
/// </summary>
public sealed class StockReservations(
    InventoryDbContext db,
    ProductCache cache,
    TimeProvider clock,
    IOptions<InventoryOptions> options)
{
    public async Task<ReserveOutcome> ReserveAsync(IEnumerable<(Guid ProductId, int Quantity)> requested, CancellationToken cancellationToken)
    {
        var lines = InIdOrder(requested);
        // Chosen once, outside the retried block: a retry after a commit whose reply was lost finds
        // this reservation made, instead of holding the stock a second time.
        var id = Guid.CreateVersion7();
        var outcome = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            if (await FindAsync(id, ct) is { } alreadyMade)
            {
                return ReserveOutcome.Reserved(alreadyMade);
            }

            var now = clock.GetUtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var shortLines = await HoldAsync(lines, now, ct);
            if (shortLines.Count > 0)
            {
                await transaction.RollbackAsync(ct);
                return ReserveOutcome.Short(await DescribeShortAsync(shortLines, ct));
            }

            var reservation = NewPending(id, lines, now);
            db.Reservations.Add(reservation);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return ReserveOutcome.Reserved(reservation);
        }, cancellationToken);

        if (outcome.Reservation is not null)
        {
            await cache.InvalidateAsync(lines.Select(l => l.ProductId), lists: false);
        }

        return outcome;
    }

    /// <summary>Pending → Committed: the held units leave on-hand. Committing twice is a no-op.</summary>
    public Task<TransitionOutcome> CommitAsync(Guid id, CancellationToken cancellationToken) =>
        TransitionAsync(id, ReservationStatus.Committed, cancellationToken);

    /// <summary>Pending → Released: the held units become available again. Releasing twice is a no-op.</summary>
    public Task<TransitionOutcome> ReleaseAsync(Guid id, CancellationToken cancellationToken) =>
        TransitionAsync(id, ReservationStatus.Released, cancellationToken);

    /// <summary>Pending past its expiry → Expired, returning its stock; false if something else got there first.</summary>
    public async Task<bool> ExpireAsync(Guid id, CancellationToken cancellationToken) =>
        (await TransitionAsync(id, ReservationStatus.Expired, cancellationToken)).Changed;

    public Task<Reservation?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        db.Reservations.AsNoTracking().Include(r => r.Lines).FirstOrDefaultAsync(r => r.Id == id, cancellationToken);

    public Task<List<Guid>> FindExpiredAsync(int limit, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return db.Reservations.AsNoTracking()
            .Where(r => r.Status == ReservationStatus.Pending && r.ExpiresAt <= now)
            .OrderBy(r => r.ExpiresAt).Select(r => r.Id).Take(limit)
            .ToListAsync(cancellationToken);
    }

    private async Task<TransitionOutcome> TransitionAsync(Guid id, ReservationStatus to, CancellationToken cancellationToken)
    {
        var changedLines = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var lines = await MoveAsync(id, to, clock.GetUtcNow(), ct);
            await transaction.CommitAsync(ct);
            return lines;
        }, cancellationToken);

        if (changedLines is not null)
        {
            await cache.InvalidateAsync(changedLines.Select(l => l.ProductId), lists: false);
        }

        return new TransitionOutcome(await FindAsync(id, cancellationToken), changedLines is not null);
    }

    /// <summary>
    /// Inside the caller's transaction: adds each line to its product's Reserved where enough is
    /// available; returns the lines that were not (then the caller rolls back, holding nothing).
    /// The product's version stays: holding stock is not an edit, so it must not fail an admin's If-Match.
    /// </summary>
    internal async Task<List<(Guid ProductId, int Quantity)>> HoldAsync(
        IReadOnlyList<(Guid ProductId, int Quantity)> lines, DateTimeOffset now, CancellationToken ct)
    {
        var shortLines = new List<(Guid ProductId, int Quantity)>();
        foreach (var (productId, quantity) in lines)
        {
            var held = await db.Products
                .Where(p => p.Id == productId && p.OnHand - p.Reserved >= quantity)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(p => p.Reserved, p => p.Reserved + quantity)
                    .SetProperty(p => p.UpdatedAt, now), ct);
            if (held == 0)
            {
                shortLines.Add((productId, quantity));
            }
        }

        return shortLines;
    }

    /// <summary>
    /// Inside the caller's transaction: moves a Pending reservation to <paramref name="to"/> and its
    /// lines' stock with it; null when it was not Pending as required (then nothing changed).
    /// </summary>
    internal async Task<List<ReservationLine>?> MoveAsync(Guid id, ReservationStatus to, DateTimeOffset now, CancellationToken ct)
    {
        // Only a Pending reservation moves, and only one request wins the move: the status
        // check and the change are one UPDATE. Commit needs it unexpired; expiry needs it expired.
        var pending = db.Reservations.Where(r => r.Id == id && r.Status == ReservationStatus.Pending);
        pending = to switch
        {
            ReservationStatus.Committed => pending.Where(r => r.ExpiresAt > now),
            ReservationStatus.Expired => pending.Where(r => r.ExpiresAt <= now),
            _ => pending,
        };
        var moved = await pending
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, to).SetProperty(r => r.UpdatedAt, now), ct);
        if (moved == 0)
        {
            return null;
        }

        var lines = await db.ReservationLines.AsNoTracking().Where(l => l.ReservationId == id)
            .OrderBy(l => l.ProductId).ToListAsync(ct);
        foreach (var line in lines)
        {
            var quantity = line.Quantity;
            var taken = to == ReservationStatus.Committed ? quantity : 0;
            await db.Products.Where(p => p.Id == line.ProductId)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(p => p.Reserved, p => p.Reserved - quantity)
                    .SetProperty(p => p.OnHand, p => p.OnHand - taken)
                    .SetProperty(p => p.UpdatedAt, now), ct);
        }

        return lines;
    }

    /// <summary>One line per product, in id order: concurrent holds then lock rows in the same order and cannot deadlock.</summary>
    internal static List<(Guid ProductId, int Quantity)> InIdOrder(IEnumerable<(Guid ProductId, int Quantity)> requested) =>
        requested
            .GroupBy(l => l.ProductId)
            .Select(g => (ProductId: g.Key, Quantity: g.Sum(l => l.Quantity)))
            .OrderBy(l => l.ProductId)
            .ToList();

    internal Reservation NewPending(Guid id, IEnumerable<(Guid ProductId, int Quantity)> lines, DateTimeOffset now) => new()
    {
        Id = id,
        Status = ReservationStatus.Pending,
        Lines = lines.Select(l => new ReservationLine { ProductId = l.ProductId, Quantity = l.Quantity }).ToList(),
        CreatedAt = now,
        UpdatedAt = now,
        ExpiresAt = now + options.Value.ReservationTtl,
    };

    internal async Task<List<ShortLine>> DescribeShortAsync(List<(Guid ProductId, int Quantity)> shortLines, CancellationToken ct)
    {
        var ids = shortLines.Select(l => l.ProductId).ToList();
        var available = await db.Products.AsNoTracking().Where(p => ids.Contains(p.Id))
            .ToDictionaryAsync(p => p.Id, p => p.OnHand - p.Reserved, ct);
        return shortLines
            .Select(l => new ShortLine(l.ProductId, l.Quantity, available.GetValueOrDefault(l.ProductId), available.ContainsKey(l.ProductId)))
            .ToList();
    }
}

public sealed record ReserveOutcome(Reservation? Reservation, IReadOnlyList<ShortLine> ShortLines)
{
    public static ReserveOutcome Reserved(Reservation reservation) => new(reservation, []);

    public static ReserveOutcome Short(IReadOnlyList<ShortLine> lines) => new(null, lines);
}

/// <param name="Exists">False when the product is not in the catalogue at all.</param>
public sealed record ShortLine(Guid ProductId, int Requested, int Available, bool Exists);

/// <param name="Reservation">Its state after the call; null when there is no such reservation.</param>
/// <param name="Changed">This call moved it (false: it was already in a final state, or not Pending as required).</param>
public sealed record TransitionOutcome(Reservation? Reservation, bool Changed);
