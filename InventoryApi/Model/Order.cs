namespace Reference.InventoryApi.Model;

/// <summary>
/// A committed cart hold: its lines left on-hand when it was placed. AwaitingPayment until staff
/// (or, later, a payment provider) marks it Paid; Cancelled gives its units back to on-hand.
/// </summary>
public sealed class Order
{
    public Guid Id { get; set; }

    /// <summary>What the shopper and staff quote, e.g. <c>R-7F3A2C91D4</c>.</summary>
    public required string Number { get; set; }

    public OrderStatus Status { get; set; }

    /// <summary>The cart (browser) that placed it; its token shows the shopper their orders.</summary>
    public required string CartId { get; set; }

    /// <summary>Unique with <see cref="CartId"/>: a retried "Place order" finds this order instead of making another.</summary>
    public required string IdempotencyKey { get; set; }

    /// <summary>The hold it committed; unique, so one hold makes at most one order.</summary>
    public Guid ReservationId { get; set; }

    public required string ClientAddress { get; set; }
    public required string CustomerName { get; set; }
    public required string CustomerEmail { get; set; }
    public required string Currency { get; set; }
    public decimal Total { get; set; }
    public List<OrderLine> Lines { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What was bought at what price; SKU and name are copied, so the order outlives the product.</summary>
public sealed class OrderLine
{
    public long Id { get; set; }
    public Guid OrderId { get; set; }
    public Guid ProductId { get; set; }
    public required string Sku { get; set; }
    public required string Name { get; set; }
    public decimal UnitPrice { get; set; }
    public int Quantity { get; set; }
}

public enum OrderStatus
{
    AwaitingPayment,
    Paid,
    Cancelled,
}

/// <summary>
/// An order event waiting for the bus, written in the order's own transaction (a small outbox):
/// an order is never placed without its event, even while RabbitMQ is down.
/// </summary>
public sealed class OrderEvent
{
    public long Id { get; set; }
    public Guid OrderId { get; set; }

    /// <summary>The message type's name: OrderPlaced, OrderPaid or OrderCancelled.</summary>
    public required string Type { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>A replica publishing it holds it until then, so two replicas do not both send it; a crash lets the claim lapse.</summary>
    public DateTimeOffset? ClaimedUntil { get; set; }

    public DateTimeOffset? PublishedAt { get; set; }
}
