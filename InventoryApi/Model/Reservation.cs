namespace Reference.InventoryApi.Model;

/// <summary>Stock held for a checkout. Pending holds stock (products' Reserved); Committed takes it off
/// on-hand; Released and Expired give it back. Only Pending ever changes state.</summary>
public sealed class Reservation
{
    public Guid Id { get; set; }
    public ReservationStatus Status { get; set; }
    public List<ReservationLine> Lines { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The shopper's cart, for a hold made at checkout; null for one staff made.</summary>
    public string? CartId { get; set; }

    /// <summary>The client address a cart hold came from, so holds per address can be capped.</summary>
    public string? ClientAddress { get; set; }
}

public sealed class ReservationLine
{
    public long Id { get; set; }
    public Guid ReservationId { get; set; }

    /// <summary>No foreign key: a reservation's history outlives a deleted product.</summary>
    public Guid ProductId { get; set; }

    public int Quantity { get; set; }
}

public enum ReservationStatus
{
    Pending,
    Committed,
    Released,
    Expired,
}
